// Package hostilebuild loads the build layer of the hostile corpus
// (testdata/hostile/build/cases.json) and writes its repositories, for
// the tests of every caller that builds repository content.
package hostilebuild

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Case is one entry of testdata/hostile/build/cases.json: repository
// content that must fail one check cleanly (rule, at file) while the
// caller keeps working; rule "" means the check must pass.
type Case struct {
	Name   string              `json:"name"`
	Attack string              `json:"attack"`
	Files  map[string]FileSpec `json:"files"`
	Parent map[string]FileSpec `json:"parent"` // written in the folder above the repository
	Rule   string              `json:"rule"`
	File   string              `json:"file"`
	// Layer "guard": the in-process walls (bundle pre-scan, preflight)
	// catch it, so it is also run in this process; "process": only a
	// builder process contains it.
	Layer string `json:"layer"`
}

// FileSpec generates a file: text, unit×times, suffix, close unit×times,
// tail. With count, count files are made, {i} in the name and text being
// the index and {next} the index plus one; {i} in a repeated unit is the
// repetition's index. link makes a symbolic link, fifo a named pipe.
type FileSpec struct {
	Text   string  `json:"text"`
	Repeat *Repeat `json:"repeat"`
	Suffix string  `json:"suffix"`
	Close  *Repeat `json:"close"`
	Tail   string  `json:"tail"`
	Count  int     `json:"count"`
	Link   string  `json:"link"`
	FIFO   bool    `json:"fifo"`
}

type Repeat struct {
	Unit  string `json:"unit"`
	Times int    `json:"times"`
}

func (r *Repeat) write(b *strings.Builder) {
	if r == nil {
		return
	}
	if !strings.Contains(r.Unit, "{i}") {
		b.WriteString(strings.Repeat(r.Unit, r.Times))
		return
	}
	for i := range r.Times {
		b.WriteString(strings.ReplaceAll(r.Unit, "{i}", strconv.Itoa(i)))
	}
}

// Load reads the cases; root is the repository root.
func Load(t testing.TB, root string) []Case {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "testdata", "hostile", "build", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Cases []Case }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.Cases
}

// Materialize writes a case's repository (with its kinde.json) under a
// new folder and returns the repository's path.
func Materialize(t testing.TB, c Case) string {
	t.Helper()
	parent := t.TempDir()
	repo := filepath.Join(parent, "repo")
	writeSpecs(t, parent, c.Parent)
	files := map[string]FileSpec{"kinde.json": {Text: `{"rootDir": "kindeSrc", "version": "2024-12-09"}`}}
	for k, v := range c.Files {
		files[k] = v
	}
	writeSpecs(t, repo, files)
	return repo
}

func writeSpecs(t testing.TB, dir string, specs map[string]FileSpec) {
	t.Helper()
	for name, s := range specs {
		n := max(s.Count, 1)
		for i := range n {
			sub := func(x string) string {
				if s.Count == 0 {
					return x
				}
				return strings.NewReplacer("{i}", strconv.Itoa(i), "{next}", strconv.Itoa(i+1)).Replace(x)
			}
			p := filepath.Join(dir, filepath.FromSlash(sub(name)))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			switch {
			case s.Link != "":
				if err := os.Symlink(s.Link, p); err != nil {
					t.Fatal(err)
				}
				continue
			case s.FIFO:
				if err := syscall.Mkfifo(p, 0o644); err != nil {
					t.Skipf("no FIFOs here: %v", err)
				}
				continue
			}
			var b strings.Builder
			b.WriteString(sub(s.Text))
			s.Repeat.write(&b)
			b.WriteString(sub(s.Suffix))
			s.Close.write(&b)
			b.WriteString(sub(s.Tail))
			if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
