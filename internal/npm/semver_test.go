package npm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// npmTable is testdata/semver/npm-semver.json: npm's own semver package's
// answers for ranges × versions (regenerate: node internal/npm/testdata/semver/gen.js).
type npmTable struct {
	Semver   string   `json:"semver"`
	Versions []string `json:"versions"`
	Sorted   []string `json:"sorted"`
	Ranges   []struct {
		Range     string  `json:"range"`
		Valid     bool    `json:"valid"`
		Satisfies string  `json:"satisfies"`
		Max       *string `json:"max"`
	} `json:"ranges"`
}

func readNPMTable(t *testing.T) npmTable {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "semver", "npm-semver.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tab npmTable
	if err := json.Unmarshal(b, &tab); err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestSemverMatchesNPM: for every range of the table, whether it parses,
// which versions satisfy it and the highest of them are what npm's semver
// says; a range npm rejects matches nothing here either.
func TestSemverMatchesNPM(t *testing.T) {
	tab := readNPMTable(t)
	for _, rc := range tab.Ranges {
		t.Run(rc.Range, func(t *testing.T) {
			r, err := parseRange(rc.Range)
			if rc.Valid && err != nil {
				t.Fatalf("parseRange(%q): %v; npm %s accepts it", rc.Range, err, tab.Semver)
			}
			for i, v := range tab.Versions {
				want := rc.Satisfies[i] == '1'
				pv, verr := parseVersion(v)
				got := err == nil && verr == nil && r.matches(pv)
				if got != want {
					t.Errorf("%q satisfies %q = %v, npm %s says %v", v, rc.Range, got, tab.Semver, want)
				}
			}
			want := ""
			if rc.Max != nil {
				want = *rc.Max
			}
			if got := maxSatisfying(slices.Values(tab.Versions), rc.Range); got != want {
				t.Errorf("maxSatisfying(%q) = %q, npm says %q", rc.Range, got, want)
			}
		})
	}
}

// TestSemverOrderMatchesNPM: versions sort as npm's semver.compare sorts them.
func TestSemverOrderMatchesNPM(t *testing.T) {
	tab := readNPMTable(t)
	got := slices.Clone(tab.Versions)
	slices.SortStableFunc(got, func(a, b string) int {
		va, _ := parseVersion(a)
		vb, _ := parseVersion(b)
		return va.compare(vb)
	})
	if !slices.Equal(got, tab.Sorted) {
		t.Errorf("order:\n got %v\nwant %v", got, tab.Sorted)
	}
}
