package invoke

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/jsonpos"
)

// What a caller reads from files or requests before it can invoke: the
// event, environment variables and the encryption key, each checked with an
// error that says where it is wrong.

// CheckEvent reports whether data is exactly one JSON object; the error is
// "line:col: what is wrong".
func CheckEvent(data []byte) error {
	if err := jsonpos.Check(data); err != nil {
		var e *jsonpos.Error
		if errors.As(err, &e) {
			return fmt.Errorf("%d:%d: invalid JSON: %s", e.Line, e.Col, e.Message())
		}
		return err
	}
	if first := bytes.TrimLeft(data, " \t\r\n"); first[0] != '{' {
		return errors.New("1:1: the event must be a JSON object ({\"request\": …, \"context\": …})")
	}
	return nil
}

// ParseEnv decodes environment variables written as
// {"NAME": {"value": "…", "isSecret": true}}. Errors never show a value.
func ParseEnv(data []byte) (map[string]bindings.EnvVar, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New(JSONError(data, err))
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

// DecodeKey decodes a workflow encryption key: Base64 (standard or URL
// alphabet, padded or not) of 32 bytes, as Kinde shows it. Errors never
// show the key.
func DecodeKey(s string) ([]byte, error) {
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

// JSONError locates a decoding error of data as "line:col: message".
func JSONError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset is just past the offending byte.
		l, c := jsonpos.Pos(data, max(int(se.Offset)-1, 0))
		return fmt.Sprintf("%d:%d: invalid JSON: %v", l, c, se)
	case errors.As(err, &te):
		l, c := jsonpos.Pos(data, int(te.Offset))
		what := te.Field
		if what == "" {
			what = "the value"
		}
		return fmt.Sprintf("%d:%d: %s must be %s, not a JSON %s", l, c, what, JSONKind(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		l, c := jsonpos.Pos(data, len(data))
		return fmt.Sprintf("%d:%d: invalid JSON: unexpected end of input", l, c)
	}
	return err.Error()
}

// JSONKind names the JSON type a Go kind decodes from ("an object", …).
func JSONKind(goKind string) string {
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
