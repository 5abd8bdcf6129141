package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/workflow"
)

// What run, test and bench share: reading events, env files and keys, and
// choosing the workflow to invoke.

// listFlag is a repeatable string flag (--allow-host).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// jsonPos turns a byte offset in data into a 1-based line and column.
func jsonPos(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col = 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// jsonError locates a decoding error in data as "line:col: message".
func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset is just past the offending byte.
		l, c := jsonPos(data, max(se.Offset-1, 0))
		return fmt.Sprintf("%d:%d: invalid JSON: %v", l, c, se)
	case errors.As(err, &te):
		l, c := jsonPos(data, te.Offset)
		what := te.Field
		if what == "" {
			what = "the value"
		}
		return fmt.Sprintf("%d:%d: %s must be %s, not a JSON %s", l, c, what, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		l, c := jsonPos(data, int64(len(data)))
		return fmt.Sprintf("%d:%d: invalid JSON: unexpected end of input", l, c)
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "interface":
		return "a JSON value"
	}
	return "a number"
}

// checkObject reports whether data is exactly one JSON object.
func checkObject(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	if err := dec.Decode(&v); err != nil {
		return errors.New(jsonError(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		l, c := jsonPos(data, dec.InputOffset())
		return fmt.Errorf("%d:%d: invalid JSON: text after the end of the value", l, c)
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.New("1:1: the event must be a JSON object ({\"request\": …, \"context\": …})")
	}
	return nil
}

// readEvent reads an event file and checks it is one JSON object.
func readEvent(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if err := checkObject(data); err != nil {
		return nil, fmt.Errorf("event %s:%v", name, err)
	}
	return data, nil
}

// parseEnv decodes {"NAME": {"value": "…", "isSecret": true}}.
func parseEnv(data []byte) (map[string]bindings.EnvVar, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New(jsonError(data, err))
	}
	if raw == nil {
		return nil, errors.New(`1:1: expected an object like {"NAME": {"value": "…", "isSecret": false}}`)
	}
	env := make(map[string]bindings.EnvVar, len(raw))
	for name, v := range raw {
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		var ev struct {
			Value    *string `json:"value"`
			IsSecret bool    `json:"isSecret"`
		}
		if err := dec.Decode(&ev); err != nil || ev.Value == nil {
			return nil, fmt.Errorf("variable %q: expected {\"value\": \"…\", \"isSecret\": true|false} with a string value", name)
		}
		env[name] = bindings.EnvVar{Value: *ev.Value, IsSecret: ev.IsSecret}
	}
	return env, nil
}

// readEnvFile reads an --env file.
func readEnvFile(name string) (map[string]bindings.EnvVar, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	env, err := parseEnv(data)
	if err != nil {
		return nil, fmt.Errorf("env file %s:%v", name, err)
	}
	return env, nil
}

// decodeKey decodes a workflow encryption key: Base64 (standard or URL
// alphabet, padded or not) of 32 bytes, as Kinde shows it.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != 32 {
				return nil, fmt.Errorf("the encryption key is %d bytes; an AES-256 key is 32 bytes (44 Base64 characters)", len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("the encryption key is not Base64")
}

// passwords returns the event's password fields (context.auth.*), which
// must never appear in logs or errors.
func passwords(event []byte) []string {
	var ev struct {
		Context struct {
			Auth map[string]any `json:"auth"`
		} `json:"context"`
	}
	if json.Unmarshal(event, &ev) != nil {
		return nil
	}
	var out []string
	for _, f := range workflow.PasswordFields {
		if s, ok := ev.Context.Auth[f].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// pick finds the workflow to invoke: by id when id is set, else by
// trigger. It returns nil when none matches.
func pick(r *project.Report, trigger, id string) *project.Workflow {
	for _, w := range r.Workflows {
		if id != "" && w.Settings.ID == id || id == "" && w.Settings.Trigger == trigger {
			return w
		}
	}
	return nil
}

// workflowIDs lists the ids the report found, for "no such workflow" messages.
func workflowIDs(r *project.Report) string {
	var ids []string
	for _, w := range r.Workflows {
		if w.Settings.ID != "" {
			ids = append(ids, fmt.Sprintf("%q", w.Settings.ID))
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// writeJSON prints v indented, without HTML escaping (claims may hold <, &).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
