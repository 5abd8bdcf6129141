package srcmap

import "testing"

// A hand-written map: generated line 1 col 0 -> a.ts 3:4; line 2 col 2 -> a.ts 7:0.
const sample = `{"version":3,"sources":["a.ts"],"names":[],"mappings":"AAEI;EAIJ"}`

func TestOriginal(t *testing.T) {
	m, err := Parse("sample", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		line, col int
		want      Position
		wantOK    bool
	}{
		{"first segment", 1, 1, Position{"a.ts", 3, 5}, true},
		{"second line", 2, 3, Position{"a.ts", 7, 1}, true},
		{"out of range line", 0, 1, Position{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m.Original(tt.line, tt.col)
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("Original(%d,%d) = %+v,%v; want %+v,%v", tt.line, tt.col, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	var nilMap *Map
	if _, ok := nilMap.Original(1, 1); ok {
		t.Fatal("nil map mapped a position")
	}
}

func TestParseError(t *testing.T) {
	if _, err := Parse("bad", []byte("{not json")); err == nil {
		t.Fatal("want error for malformed map")
	}
}
