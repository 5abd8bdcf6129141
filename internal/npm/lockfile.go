package npm

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/jsonpos"
)

// maxManifestBytes bounds package.json and package-lock.json.
const maxManifestBytes = 16 << 20

// locked is one package's entry in package-lock.json.
type locked struct {
	Version   string `json:"version"`
	Integrity string `json:"integrity"`
}

// lockfile holds the versions a repository pins: package-lock.json's
// top-level packages and package.json's ranges.
type lockfile struct {
	locked map[string]locked
	ranges map[string]string
}

// jsonErrorPos locates an error of json.Unmarshal on data: the offending
// character of a syntax error, the value of the wrong type.
func jsonErrorPos(data []byte, err error) (line, col int) {
	var pe *jsonpos.Error
	if errors.As(jsonpos.Check(data), &pe) {
		return pe.Line, pe.Col
	}
	var te *json.UnmarshalTypeError
	if doc, perr := jsonpos.Parse(data); perr == nil && errors.As(err, &te) {
		off, _ := doc.Value(doc.Before(int(te.Offset) - 1))
		return jsonpos.Pos(data, off)
	}
	return 1, 1
}

// readLock reads package-lock.json (lockfileVersion 1, 2 or 3) and
// package.json at the repository root, next to kinde.json. Missing files
// pin nothing; unreadable ones are build-errors.
func readLock(root string) (*lockfile, []diag.Diagnostic) {
	l := &lockfile{locked: map[string]locked{}, ranges: map[string]string{}}
	var ds []diag.Diagnostic
	if data, d := readManifest(root, "package.json"); d != nil {
		ds = append(ds, *d)
	} else if data != nil {
		var pj struct {
			Dependencies    map[string]string `json:"dependencies"`
			DevDependencies map[string]string `json:"devDependencies"`
		}
		if err := json.Unmarshal(data, &pj); err != nil {
			line, col := jsonErrorPos(data, err)
			ds = append(ds, diag.New(RuleBuildError, "package.json", line, col, "package.json is not valid JSON (%v): fix it so Flowgate can read the versions it pins", err))
		}
		for n, r := range pj.DevDependencies {
			l.ranges[n] = r
		}
		for n, r := range pj.Dependencies {
			l.ranges[n] = r
		}
	}
	if data, d := readManifest(root, "package-lock.json"); d != nil {
		ds = append(ds, *d)
	} else if data != nil {
		var pl struct {
			Packages     map[string]locked `json:"packages"`
			Dependencies map[string]locked `json:"dependencies"`
		}
		if err := json.Unmarshal(data, &pl); err != nil {
			line, col := jsonErrorPos(data, err)
			ds = append(ds, diag.New(RuleBuildError, "package-lock.json", line, col, "package-lock.json is not valid JSON (%v): run `npm install` and commit the file it writes", err))
		}
		for n, e := range pl.Dependencies { // lockfileVersion 1
			l.locked[n] = e
		}
		for p, e := range pl.Packages {
			name, ok := strings.CutPrefix(p, "node_modules/")
			if ok && !strings.Contains(name, "/node_modules/") && e.Version != "" {
				l.locked[name] = e
			}
		}
	}
	return l, ds
}

// readManifest reads a regular file at the root; nil, nil when absent.
func readManifest(root, name string) ([]byte, *diag.Diagnostic) {
	p := filepath.Join(root, name)
	info, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil || !info.Mode().IsRegular() || info.Size() > maxManifestBytes {
		d := diag.New(RuleBuildError, name, 1, 1, "%s must be a regular file of at most %d MiB", name, maxManifestBytes>>20)
		return nil, &d
	}
	data, err := readSmall(p, maxManifestBytes)
	if err != nil {
		d := diag.New(RuleBuildError, name, 1, 1, "%s cannot be read: %v", name, err)
		return nil, &d
	}
	return data, nil
}
