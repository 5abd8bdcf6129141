package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Limits on what the bundler is given to parse. esbuild parses in this
// process, recursively: a source nested hundreds of thousands of levels
// deep overflows the Go stack, which no recover catches, and takes the
// process (the CLI, or every tenant of the service) down with it.
const (
	// MaxNesting is the deepest bracket nesting a source file may have.
	// Hand-written code stays far below it.
	MaxNesting = 1000
	// MaxSourceBytes is the largest source file the bundler reads.
	MaxSourceBytes = 8 << 20
)

// parsedFiles are the files esbuild parses (and so recurses into).
var parsedFiles = regexp.MustCompile(`\.([mc]?[jt]sx?|json)$`)

// guardSources is the esbuild plugin that reads every source file itself
// before esbuild parses it: it refuses files nested deeper than
// MaxNesting or larger than MaxSourceBytes, and drops
// `sourceMappingURL` comments that name a file, since esbuild would read
// that file wherever it is, outside the repository included (only inline
// data: maps are kept).
func guardSources() api.Plugin {
	return api.Plugin{
		Name: "flowgate-guard-sources",
		Setup: func(b api.PluginBuild) {
			b.OnLoad(api.OnLoadOptions{Filter: parsedFiles.String(), Namespace: "file"}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
				if t := args.With["type"]; t != "" && t != "json" {
					return api.OnLoadResult{}, nil // text, file, base64…: not parsed
				}
				info, err := os.Stat(args.Path)
				if err != nil {
					return api.OnLoadResult{}, nil // esbuild reports it
				}
				if info.Size() > MaxSourceBytes {
					return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(
						"%s is %d MiB; source files may be at most %d MiB", filepath.Base(args.Path), info.Size()>>20, MaxSourceBytes>>20)}}}, nil
				}
				data, err := os.ReadFile(args.Path)
				if err != nil {
					return api.OnLoadResult{}, nil
				}
				if line, depth := nesting(data); depth > MaxNesting {
					return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(
						"%s nests brackets more than %d levels deep (at line %d): no workflow needs that, and parsing it could exhaust the build",
						filepath.Base(args.Path), MaxNesting, line)}}}, nil
				}
				src := dropMapComments(string(data))
				return api.OnLoadResult{Contents: &src, Loader: loaderFor(args.Path)}, nil
			})
		},
	}
}

// nesting returns the deepest bracket nesting of a source text (code
// inside template literals' ${} included) and the line where it first
// passes MaxNesting. It is a small tokenizer: strings, template text,
// comments and regular expression literals are skipped, a regexp told
// from a division by the token before it, as JavaScript parsers do.
func nesting(src []byte) (line, max int) {
	var (
		depth int
		ln    = 1
		prev  byte   // the last significant character outside literals
		word  string // the last identifier or keyword, when prev ends one
		tmpl  []int  // depths at which a template's ${ opened
	)
	deeper := func() {
		depth++
		if depth > max {
			max = depth
			if max == MaxNesting+1 {
				line = ln
			}
		}
	}
	// tmplText scans template text from i (just past ` or }) to the
	// closing ` or the next ${, returning the index of the last byte read.
	tmplEnd := func(i int) int {
		for ; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '\n':
				ln++
			case '`':
				return i
			case '$':
				if i+1 < len(src) && src[i+1] == '{' {
					tmpl = append(tmpl, depth)
					deeper()
					return i + 1
				}
			}
		}
		return i
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			ln++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '(' || c == '[' || c == '{':
			deeper()
		case c == ')' || c == ']':
			if depth > 0 {
				depth--
			}
		case c == '}':
			if depth > 0 {
				depth--
			}
			if n := len(tmpl); n > 0 && tmpl[n-1] == depth {
				tmpl = tmpl[:n-1]
				i = tmplEnd(i + 1)
				prev, word = '`', ""
				continue
			}
		case c == '"' || c == '\'':
			for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case c == '`':
			i = tmplEnd(i + 1)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			ln++
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			for i += 2; i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/'); i++ {
				if src[i] == '\n' {
					ln++
				}
			}
			i++
			continue
		case c == '/' && regexAllowed(prev, word):
			inClass := false
			for i++; i < len(src) && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				} else if src[i] == '[' {
					inClass = true
				} else if src[i] == ']' {
					inClass = false
				} else if src[i] == '/' && !inClass {
					break
				}
			}
		case isIdent(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			word = string(src[i:j])
			i = j - 1
			prev = 'a'
			continue
		}
		prev, word = c, ""
	}
	return line, max
}

func isIdent(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// regexAllowed says whether a / after prev (and word, when prev ended
// one) starts a regular expression rather than a division.
func regexAllowed(prev byte, word string) bool {
	if prev == 0 {
		return true
	}
	if prev == 'a' {
		switch word {
		case "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await":
			return true
		}
		return false
	}
	return !strings.ContainsRune(")]}`\"'", rune(prev))
}

// mapComment matches a sourceMappingURL comment (both the // and the
// /* */ forms, and the old //@ spelling).
var mapComment = regexp.MustCompile(`(?m)(//[#@]\s*sourceMappingURL=|/\*[#@]\s*sourceMappingURL=)(\S*)`)

// dropMapComments blanks every sourceMappingURL comment that does not
// carry its map inline.
func dropMapComments(src string) string {
	if !strings.Contains(src, "sourceMappingURL") {
		return src
	}
	return mapComment.ReplaceAllStringFunc(src, func(m string) string {
		if strings.Contains(m, "sourceMappingURL=data:") {
			return m
		}
		return strings.Repeat(" ", len(m)) // same length: positions stay put
	})
}

func loaderFor(path string) api.Loader {
	switch strings.TrimLeft(filepath.Ext(path), ".") {
	case "ts", "mts", "cts":
		return api.LoaderTS
	case "tsx":
		return api.LoaderTSX
	case "jsx":
		return api.LoaderJSX
	case "json":
		return api.LoaderJSON
	}
	return api.LoaderJS
}
