// Package wftest reads workflow test files (*.test.json, kept beside the
// workflows; the format is in docs/testing-workflows.md) and runs their
// cases through invoke, so a case runs exactly as a trigger call does.
package wftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/jsonpos"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Suffix names workflow test files.
const Suffix = ".test.json"

// File is a workflow test file: the workflow under test (by id or by
// trigger) and its cases.
type File struct {
	Path     string // as shown to the user
	Workflow string // the workflow's id, or
	Trigger  string // its trigger
	Cases    []*Case
}

// Case is one invocation and what its Result must contain.
type Case struct {
	Name          string
	Event         []byte
	Env           map[string]bindings.EnvVar
	EncryptionKey []byte
	Fetch         []httpstub.Stub // never nil: a case never reaches the network
	Expect        map[string]any  // part of the Result JSON; nil expects success
}

// rawTestFile and friends are the JSON as written.
type rawTestFile struct {
	Workflow string     `json:"workflow"`
	Trigger  string     `json:"trigger"`
	Cases    []*rawCase `json:"cases"`
}

type rawCase struct {
	Name          string          `json:"name"`
	Event         json.RawMessage `json:"event"`
	EventFile     string          `json:"eventFile"`
	Env           json.RawMessage `json:"env"`
	EncryptionKey string          `json:"encryptionKey"`
	Fetch         []rawStub       `json:"fetch"`
	Expect        json.RawMessage `json:"expect"`
}

type rawStub struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Status  int               `json:"status"`
	JSON    json.RawMessage   `json:"json"`
	Text    *string           `json:"text"`
	Headers map[string]string `json:"headers"`
}

// FileError is a located problem in a test file.
type FileError struct {
	Path      string
	Line, Col int
	Msg       string
}

func (e *FileError) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Msg) }

var unknownFieldRe = regexp.MustCompile(`unknown field "([^"]*)"`)

// Size limits on what a test file makes the runner read: test files and
// event files come from the repository, which may be a pull request's.
const (
	MaxFileBytes  = 4 << 20 // a test file
	MaxEventBytes = 1 << 20 // an eventFile (the runtime API's event limit)
)

// Load reads and parses the test file at rel (slash-separated) in repo,
// the repository's files (os.Root.FS, so no path or link leads outside it).
// shown is the path used in messages.
func Load(repo fs.FS, rel, shown string) (*File, error) {
	data, err := readRegular(repo, rel, MaxFileBytes)
	if err != nil {
		return nil, &FileError{Path: shown, Line: 1, Col: 1, Msg: err.Error()}
	}
	return Parse(data, shown, repo, path.Dir(rel))
}

// readRegular reads a regular file of at most limit bytes: a named pipe or
// device in the repository must not hang or flood the runner.
func readRegular(repo fs.FS, name string, limit int64) ([]byte, error) {
	info, err := fs.Stat(repo, name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the limit of %d", name, info.Size(), limit)
	}
	f, err := repo.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is more than the limit of %d bytes", name, limit)
	}
	return data, nil
}

// Parse reads a test file. shown is the path used in messages. eventFile
// paths are relative to the file's folder, dir (slash-separated, relative
// to repo's root), and must stay inside repo. Every error is a *FileError
// with the line and column of the problem.
func Parse(data []byte, shown string, repo fs.FS, dir string) (*File, error) {
	errAt := func(line, col int, format string, a ...any) error {
		return &FileError{Path: shown, Line: line, Col: col, Msg: fmt.Sprintf(format, a...)}
	}
	pos, err := jsonpos.Parse(data)
	if err != nil {
		var e *jsonpos.Error
		if errors.As(err, &e) && e.Err != nil {
			// Offset is just past the offending byte.
			l, c := jsonpos.Pos(data, max(int(e.Err.Offset)-1, 0))
			return nil, errAt(l, c, "invalid JSON: %v", e.Err)
		}
		return nil, errAt(1, 1, "invalid JSON: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 || bytes.TrimSpace(data)[0] != '{' {
		return nil, errAt(1, 1, `a test file is a JSON object: {"workflow": "<id>", "cases": [...]}`)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw rawTestFile
	if err := dec.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			path := pos.Before(int(te.Offset))
			l, c := pos.At(path)
			return nil, errAt(l, c, "%s must be %s, not a JSON %s", path, invoke.JSONKind(te.Type.Kind().String()), te.Value)
		}
		if m := unknownFieldRe.FindStringSubmatch(err.Error()); m != nil {
			path, _ := pos.KeyNamed(m[1])
			off, _ := pos.Key(path)
			l, c := jsonpos.Pos(data, off)
			return nil, errAt(l, c, "unknown field %q in %s; see docs/testing-workflows.md for the format", m[1], where(path))
		}
		return nil, errAt(1, 1, "%v", err)
	}
	at := func(path, format string, a ...any) error {
		l, c := pos.At(path)
		return errAt(l, c, "%s: %s", path, fmt.Sprintf(format, a...))
	}
	tf := &File{Path: shown, Workflow: raw.Workflow, Trigger: raw.Trigger}
	switch {
	case raw.Workflow == "" && raw.Trigger == "":
		return nil, errAt(1, 1, `name the workflow under test: "workflow": "<id>" or "trigger": "<trigger>"`)
	case raw.Workflow != "" && raw.Trigger != "":
		return nil, at("trigger", `give "workflow" or "trigger", not both`)
	case raw.Trigger != "" && !workflow.IsTrigger(raw.Trigger):
		return nil, at("trigger", "unknown trigger %q", raw.Trigger)
	case len(raw.Cases) == 0:
		return nil, at("cases", `"cases" must list at least one case`)
	}
	names := map[string]bool{}
	for i, rc := range raw.Cases {
		p := fmt.Sprintf("cases[%d]", i)
		if rc == nil {
			return nil, at(p, "a case must be an object")
		}
		if strings.TrimSpace(rc.Name) == "" {
			return nil, at(p, `every case needs a "name"`)
		}
		if names[rc.Name] {
			return nil, at(p+".name", "another case is already named %q", rc.Name)
		}
		names[rc.Name] = true
		tc := &Case{Name: rc.Name, Fetch: []httpstub.Stub{}}
		hasEvent := len(rc.Event) > 0 && string(rc.Event) != "null"
		switch {
		case hasEvent && rc.EventFile != "":
			return nil, at(p+".eventFile", `give "event" or "eventFile", not both`)
		case hasEvent:
			if rc.Event[0] != '{' {
				return nil, at(p+".event", "the event must be a JSON object")
			}
			tc.Event = rc.Event
		case rc.EventFile != "":
			name := path.Join(dir, rc.EventFile)
			if path.IsAbs(rc.EventFile) || strings.Contains(rc.EventFile, `\`) || !fs.ValidPath(name) || repo == nil {
				return nil, at(p+".eventFile", "%q is not inside the repository: give a path relative to the test file's folder, with forward slashes", rc.EventFile)
			}
			ev, err := readRegular(repo, name, MaxEventBytes)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil, at(p+".eventFile", "cannot read %s (paths are relative to the test file's folder)", rc.EventFile)
			case err != nil:
				return nil, at(p+".eventFile", "cannot read %s: %v", rc.EventFile, stripPathErr(err))
			}
			if err := invoke.CheckEvent(ev); err != nil {
				return nil, at(p+".eventFile", "%s:%v", rc.EventFile, err)
			}
			tc.Event = ev
		default:
			return nil, at(p, `every case needs an "event" object or an "eventFile"`)
		}
		if len(rc.Env) > 0 && string(rc.Env) != "null" {
			env, err := invoke.ParseEnv(rc.Env)
			if err != nil {
				return nil, at(p+".env", "%s", strings.TrimPrefix(err.Error(), "1:1: "))
			}
			tc.Env = env
		}
		if rc.EncryptionKey != "" {
			key, err := invoke.DecodeKey(rc.EncryptionKey)
			if err != nil {
				return nil, at(p+".encryptionKey", "%v", err)
			}
			tc.EncryptionKey = key
		}
		for j, rs := range rc.Fetch {
			sp := fmt.Sprintf("%s.fetch[%d]", p, j)
			s, err := rs.stub()
			if err != nil {
				return nil, at(sp, "%v", err)
			}
			tc.Fetch = append(tc.Fetch, s)
		}
		if len(rc.Expect) > 0 && string(rc.Expect) != "null" {
			if err := json.Unmarshal(rc.Expect, &tc.Expect); err != nil || tc.Expect == nil {
				return nil, at(p+".expect", "expect must be an object: a part of the Result JSON")
			}
		}
		tf.Cases = append(tf.Cases, tc)
	}
	return tf, nil
}

// stripPathErr drops the path an *fs.PathError repeats (the message
// already names the file).
func stripPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// where names a path for messages.
func where(path string) string {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return "the file"
	}
	return path[:i]
}

func (rs rawStub) stub() (httpstub.Stub, error) {
	s := httpstub.Stub{Method: strings.ToUpper(rs.Method), Status: rs.Status, Headers: map[string]string{}}
	if s.Method == "" {
		s.Method = "GET"
	}
	if !validMethod(s.Method) {
		return s, fmt.Errorf("method %q is not an HTTP method", rs.Method)
	}
	u, err := url.Parse(rs.URL)
	if rs.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf(`"url" must be the absolute http(s) URL the workflow requests, got %q`, rs.URL)
	}
	s.URL = u.String()
	if s.Status == 0 {
		s.Status = 200
	}
	if s.Status < 100 || s.Status > 599 {
		return s, fmt.Errorf("status %d is not an HTTP status", s.Status)
	}
	hasJSON := len(rs.JSON) > 0
	switch {
	case hasJSON && rs.Text != nil:
		return s, errors.New(`give "json" or "text", not both`)
	case hasJSON:
		s.Body = string(rs.JSON)
		s.Headers["Content-Type"] = "application/json"
	case rs.Text != nil:
		s.Body = *rs.Text
		s.Headers["Content-Type"] = "text/plain; charset=utf-8"
	}
	for k, v := range rs.Headers {
		s.Headers[k] = v
	}
	return s, nil
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
