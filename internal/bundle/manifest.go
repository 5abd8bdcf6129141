package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// ManifestName is the manifest's file name in a build's output folder.
const ManifestName = "manifest.json"

// Manifest lists a build's bundles (`flowgate build`'s manifest.json, a
// contract in docs/cli.md).
type Manifest struct {
	Workflows []ManifestEntry `json:"workflows"`
}

// ManifestEntry is one workflow's bundle in a Manifest. Bundle and
// SourceMap are relative to the output folder; SHA256 is the hex SHA-256
// of the bundle.
type ManifestEntry struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Trigger   string   `json:"trigger"`
	Bindings  []string `json:"bindings"`
	Bundle    string   `json:"bundle"`
	SourceMap string   `json:"sourceMap"`
	SHA256    string   `json:"sha256"`
}

// NewEntry names the files of a workflow's bundle after its id. The id must
// be a plain name (the project's invalid-id rule), so the files stay inside
// the output folder.
func NewEntry(id, name, trigger string, bindings []string, out *Output) ManifestEntry {
	if bindings == nil {
		bindings = []string{}
	}
	return ManifestEntry{
		ID: id, Name: name, Trigger: trigger, Bindings: bindings,
		Bundle: id + ".js", SourceMap: id + ".js.map", SHA256: out.SHA256,
	}
}

// WriteBundle writes out's code and source map into dir under e's names,
// each atomically.
func WriteBundle(dir string, e ManifestEntry, out *Output) error {
	if err := checkName(e.Bundle); err != nil {
		return err
	}
	if err := checkName(e.SourceMap); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(e.Bundle)), out.Code); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(e.SourceMap)), out.SourceMap)
}

// Write writes the manifest as dir/manifest.json, atomically, indented and
// ending in a newline. Write it after the bundles it lists, so a reader
// that finds the manifest finds its bundles.
func (m *Manifest) Write(dir string) error {
	mm := *m
	if mm.Workflows == nil {
		mm.Workflows = []ManifestEntry{}
	}
	data, err := json.MarshalIndent(mm, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, ManifestName), append(data, '\n'))
}

// ParseManifest reads a manifest.json and checks that every entry names
// its files inside the output folder, so a reader can open them safely.
func ParseManifest(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if dec.More() {
		return nil, errors.New("manifest: text after the JSON object")
	}
	ids := map[string]bool{}
	for i, e := range m.Workflows {
		switch {
		case e.ID == "":
			return nil, fmt.Errorf("manifest: workflows[%d] has no id", i)
		case ids[e.ID]:
			return nil, fmt.Errorf("manifest: workflows[%d]: id %q appears twice", i, e.ID)
		case len(e.SHA256) != 64:
			return nil, fmt.Errorf("manifest: workflows[%d] (%s): sha256 must be 64 hex digits", i, e.ID)
		}
		ids[e.ID] = true
		for _, name := range []string{e.Bundle, e.SourceMap} {
			if err := checkName(name); err != nil {
				return nil, fmt.Errorf("manifest: workflows[%d] (%s): %w", i, e.ID, err)
			}
		}
	}
	return &m, nil
}

// checkName accepts a slash-separated path that stays inside its folder.
func checkName(name string) error {
	if name == "" || path.IsAbs(name) || filepath.IsAbs(name) || !filepath.IsLocal(filepath.FromSlash(name)) ||
		path.Clean(name) != name || bytes.ContainsAny([]byte(name), "\\\x00") {
		return fmt.Errorf("file name %q must be a relative path inside the output folder", name)
	}
	return nil
}

// WriteFileAtomic writes data to name through a temporary file in the same
// folder and a rename, so a reader never sees half a file. The file is
// readable by everyone (0644), as build output is.
func WriteFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".flowgate-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
