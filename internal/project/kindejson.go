package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/jsonpos"
)

// KindeJSON is the configuration file at the repository root.
const KindeJSON = "kinde.json"

// DefaultRootDir is where workflows live when kinde.json names no rootDir.
const DefaultRootDir = "kindeSrc"

// Config is kinde.json.
type Config struct {
	// RootDir is the folder holding environment/workflows, slash-separated,
	// relative to the repository and inside it ("." for the root itself).
	RootDir string
	// Version is the runtime version date (e.g. "2024-12-09"); required.
	Version string
	// NPM is integrations.npm.enabled: use the locked package versions.
	NPM bool
	// DiffPolicy is flowgate.behaviourDiff: when a pull request's
	// behaviour diff fails its check run (nil: the check run is neutral).
	DiffPolicy *DiffPolicy

	// keys holds the offset of each top-level key, to locate diagnostics.
	keys map[string]int
	data []byte
}

// configJSON is Config on the wire (a builder process sends it): the
// text and key offsets travel too, so KeyPos still locates.
type configJSON struct {
	RootDir string         `json:"rootDir"`
	Version string         `json:"version"`
	NPM     bool           `json:"npm,omitempty"`
	Diff    *DiffPolicy    `json:"diffPolicy,omitempty"`
	Keys    map[string]int `json:"keys,omitempty"`
	Data    []byte         `json:"data,omitempty"`
}

// MarshalJSON encodes c with what KeyPos needs.
func (c *Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{RootDir: c.RootDir, Version: c.Version, NPM: c.NPM, Diff: c.DiffPolicy, Keys: c.keys, Data: c.data})
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (c *Config) UnmarshalJSON(b []byte) error {
	var v configJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Config{RootDir: v.RootDir, Version: v.Version, NPM: v.NPM, DiffPolicy: v.Diff, keys: v.Keys, data: v.Data}
	return nil
}

// WorkflowsDir is the slash-separated folder discovery searches.
func (c *Config) WorkflowsDir() string { return path.Join(c.RootDir, "environment", "workflows") }

// KeyPos returns the 1-based line and column of a top-level key in
// kinde.json, or 1, 1 when the key is absent.
func (c *Config) KeyPos(key string) (line, col int) {
	off, ok := c.keys[key]
	if !ok || off < 0 || off > len(c.data) {
		return 1, 1
	}
	return position(c.data, off)
}

// ParseKindeJSON reads kinde.json. It returns nil when the file cannot be
// used at all (not JSON, not an object, a bad rootDir); otherwise a Config,
// possibly with diagnostics about the rest (a missing version).
func ParseKindeJSON(data []byte) (*Config, []diag.Diagnostic) {
	bad := func(off int, format string, args ...any) []diag.Diagnostic {
		line, col := position(data, off)
		return []diag.Diagnostic{diag.New(RuleInvalidKindeJSON, KindeJSON, line, col, format, args...)}
	}
	keys, values, err := topLevel(data)
	if err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			off := max(int(syn.Offset)-1, 0)
			msg := fmt.Sprintf("kinde.json is not valid JSON: %s", syn.Error())
			if off < len(data) && data[off] == '/' {
				msg += " (JSON does not allow comments: remove them)"
			} else if int(syn.Offset) >= len(data) {
				msg += " (the file ends too early: check for a missing } or \")"
			}
			return nil, bad(off, "%s", msg)
		}
		var notObj errNotObject
		if errors.As(err, &notObj) {
			return nil, bad(int(notObj), `kinde.json must be a JSON object such as {"rootDir": "kindeSrc", "version": "2024-12-09"}`)
		}
		return nil, bad(0, "kinde.json is not valid JSON: %v", err)
	}
	c := &Config{RootDir: DefaultRootDir, keys: keys, data: data}
	var ds []diag.Diagnostic

	if raw, ok := values["rootDir"]; ok {
		var s string
		if json.Unmarshal(raw.data, &s) != nil {
			return nil, bad(raw.off, `"rootDir" must be a string naming the folder that holds environment/workflows, such as "kindeSrc"`)
		}
		dir, problem := cleanRootDir(s)
		if problem != "" {
			return nil, bad(raw.off, `"rootDir" %q %s: use a relative folder inside the repository, such as "kindeSrc"`, s, problem)
		}
		c.RootDir = dir
	}

	if raw, ok := values["version"]; !ok {
		ds = append(ds, bad(0, `kinde.json has no "version": add "version": "2024-12-09", the runtime version this repository is written for`)...)
	} else if json.Unmarshal(raw.data, &c.Version) != nil || strings.TrimSpace(c.Version) == "" {
		ds = append(ds, bad(raw.off, `"version" must be a non-empty string such as "2024-12-09", the runtime version this repository is written for`)...)
	}

	if raw, ok := values["integrations"]; ok {
		var in struct {
			NPM *struct {
				Enabled *bool `json:"enabled"`
			} `json:"npm"`
		}
		if err := json.Unmarshal(raw.data, &in); err != nil {
			ds = append(ds, bad(raw.off, `"integrations" must look like {"npm": {"enabled": true}}`)...)
		} else if in.NPM != nil && in.NPM.Enabled != nil {
			c.NPM = *in.NPM.Enabled
		}
	}

	if raw, ok := values["flowgate"]; ok {
		pol, problem := parseDiffPolicy(raw.data)
		if problem != "" {
			line, col := position(data, raw.off)
			ds = append(ds, diag.New(RuleInvalidDiffPolicy, KindeJSON, line, col, "%s", problem))
		}
		c.DiffPolicy = pol
	}
	return c, ds
}

// cleanRootDir checks a rootDir value and returns its clean form, or why
// it is refused.
func cleanRootDir(s string) (string, string) {
	if s == "" {
		return DefaultRootDir, ""
	}
	s = strings.ReplaceAll(s, `\`, "/")
	if strings.HasPrefix(s, "/") || (len(s) > 1 && s[1] == ':') {
		return "", "is an absolute path"
	}
	clean := path.Clean(s)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", "leads outside the repository"
	}
	return clean, ""
}

// rawValue is a top-level value and the offset where it starts.
type rawValue struct {
	data json.RawMessage
	off  int
}

// errNotObject is the offset of a top-level value that is not an object.
type errNotObject int

func (e errNotObject) Error() string { return "not a JSON object" }

// topLevel reads a JSON object with jsonpos, keeping where each top-level
// key and value starts so diagnostics can point at them. A syntax error is
// the *json.SyntaxError of encoding/json (its text is what kinde.json's
// message quotes).
func topLevel(data []byte) (keys map[string]int, values map[string]rawValue, err error) {
	doc, err := jsonpos.Parse(data)
	if err != nil {
		var e *jsonpos.Error
		if errors.As(err, &e) && e.Err != nil {
			return nil, nil, e.Err
		}
		return nil, nil, err
	}
	if !doc.IsObject() {
		off, _ := doc.Value("")
		return nil, nil, errNotObject(off)
	}
	keys, values = map[string]int{}, map[string]rawValue{}
	for _, m := range doc.Members("") {
		keyOff, _ := doc.Key(m.Path)
		valOff, _ := doc.Value(m.Path)
		raw, _ := doc.Raw(m.Path)
		keys[m.Key] = keyOff
		values[m.Key] = rawValue{data: raw, off: valOff}
	}
	return keys, values, nil
}

// position converts a byte offset into a 1-based line and character column.
func position(data []byte, off int) (line, col int) { return jsonpos.Pos(data, off) }
