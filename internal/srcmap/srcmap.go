// Package srcmap maps positions in a bundle back to the original source
// files, so errors name the user's .ts line rather than the bundle's.
package srcmap

import (
	"fmt"

	"github.com/go-sourcemap/sourcemap"
)

// Map is a parsed source map (version 3).
type Map struct{ c *sourcemap.Consumer }

// Parse reads a source map; name is used only in error messages.
func Parse(name string, data []byte) (*Map, error) {
	c, err := sourcemap.Parse(name, data)
	if err != nil {
		return nil, fmt.Errorf("parse source map %s: %w", name, err)
	}
	return &Map{c: c}, nil
}

// Position is a 1-based line and column in an original file.
type Position struct {
	File   string
	Line   int
	Column int
}

// Original returns the original position of the 1-based generated line and
// column. ok is false when the map has no mapping there. A nil Map maps nothing.
func (m *Map) Original(line, column int) (pos Position, ok bool) {
	if m == nil || line < 1 || column < 1 {
		return Position{}, false
	}
	file, _, l, c, ok := m.c.Source(line, column-1)
	if !ok {
		return Position{}, false
	}
	return Position{File: file, Line: l, Column: c + 1}, true
}
