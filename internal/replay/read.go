package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Bounds on what ReadDir and Parse accept: a recording is outside input
// (an export, a file someone handed over).
const (
	MaxRecordBytes = 4 << 20   // one recorded call (one *.json file, one line of a *.jsonl file)
	MaxFileBytes   = 256 << 20 // one file
	MaxEvents      = 100_000   // in all
	MaxFetch       = 64        // recorded answers per call
	MaxDepth       = 64        // nesting of a recorded call's JSON
)

// ParseError is a recording that cannot be read, located in its file.
type ParseError struct {
	File string
	Line int // 0 for a *.json file
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadDir reads every *.json file (one recorded call each) and *.jsonl
// file (one per line; blank lines skipped) directly in dir, in name order.
// Links, subdirectories and other files are left out.
func ReadDir(dir string) ([]Recorded, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Recorded
	for _, e := range entries { // sorted by name
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if !e.Type().IsRegular() || (ext != ".json" && ext != ".jsonl") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		recs, err := Parse(f, name, ext == ".jsonl", MaxEvents-len(out))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

var errTooMany = fmt.Errorf("more than %d recorded calls", MaxEvents)

// Parse reads recorded calls from r: one JSON object, or with lines set
// one per line. name locates errors; at most limit calls are accepted.
func Parse(r io.Reader, name string, lines bool, limit int) ([]Recorded, error) {
	r = io.LimitReader(r, MaxFileBytes+1)
	if !lines {
		data, err := io.ReadAll(io.LimitReader(r, MaxRecordBytes+1))
		if err != nil {
			return nil, &ParseError{File: name, Err: err}
		}
		if len(data) > MaxRecordBytes {
			return nil, &ParseError{File: name, Err: fmt.Errorf("larger than %d bytes", MaxRecordBytes)}
		}
		if limit < 1 {
			return nil, &ParseError{File: name, Err: errTooMany}
		}
		rec, err := parseOne(data)
		if err != nil {
			return nil, &ParseError{File: name, Err: err}
		}
		return []Recorded{rec}, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxRecordBytes+1)
	var out []Recorded
	read := 0
	for line := 1; sc.Scan(); line++ {
		read += len(sc.Bytes()) + 1
		if read > MaxFileBytes {
			return nil, &ParseError{File: name, Line: line, Err: fmt.Errorf("the file is larger than %d bytes", MaxFileBytes)}
		}
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if len(out) >= limit {
			return nil, &ParseError{File: name, Line: line, Err: errTooMany}
		}
		rec, err := parseOne(text)
		if err != nil {
			return nil, &ParseError{File: name, Line: line, Err: err}
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is larger than %d bytes", MaxRecordBytes)
		}
		return nil, &ParseError{File: name, Err: err}
	}
	return out, nil
}

// parseOne decodes and checks one recorded call.
func parseOne(data []byte) (Recorded, error) {
	if d := depth(data); d > MaxDepth {
		return Recorded{}, fmt.Errorf("nested more than %d levels deep", MaxDepth)
	}
	var rec Recorded
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&rec); err != nil {
		return Recorded{}, fmt.Errorf("not a recorded call: %v", err)
	}
	if dec.More() {
		return Recorded{}, errors.New("more than one JSON value (use a *.jsonl file for several)")
	}
	switch {
	case rec.WorkflowID == "" && rec.Trigger == "":
		return Recorded{}, errors.New(`it names neither a "workflowId" nor a "trigger"`)
	case len(rec.Event) == 0 || rec.Event[0] != '{':
		return Recorded{}, errors.New(`"event" must be a JSON object`)
	case len(rec.Fetch) > MaxFetch:
		return Recorded{}, fmt.Errorf("more than %d recorded outbound answers", MaxFetch)
	}
	for i, f := range rec.Fetch {
		if f.Method == "" || f.URL == "" || f.Status < 100 || f.Status > 999 {
			return Recorded{}, fmt.Errorf(`"fetch"[%d] needs a method, a URL and a status from 100 to 999`, i)
		}
	}
	rec.Event = slices.Clip(rec.Event)
	return rec, nil
}

// depth is the deepest nesting of arrays and objects in JSON text
// (strings skipped), counted without decoding.
func depth(b []byte) int {
	d, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			d++
			deepest = max(deepest, d)
		case '}', ']':
			d--
		}
	}
	return deepest
}
