package project

import (
	"unicode"
	"unicode/utf8"
)

// token kinds of the small JavaScript lexer used to find kinde.* uses.
const (
	tokIdent = iota
	tokString
	tokPunct
)

type token struct {
	kind int
	text string // identifier name, string value (raw, unescaped), or the punctuation byte
	off  int    // byte offset in the source
}

// lex reads the author's own files (TypeScript and ES modules as written),
// which goja's parser cannot: it has no type syntax and no import/export
// declarations (of the 96 sources under the repository's workflows folders,
// goja parses 2). The bundle, which goja parses, is read with its AST
// (parseBundle), never with lex.
//
// lex splits JavaScript or TypeScript source into identifiers, string
// literals and punctuation, skipping comments, numbers, template text and
// regular expressions, so a kinde.x inside a comment or string is not a
// use. It never fails: malformed input just yields fewer tokens.
func lex(src []byte) []token {
	var toks []token
	var braces []int // per open template substitution, the brace depth it started at
	depth := 0
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			i += 2
			for i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/') {
				i++
			}
			i = min(i+2, len(src))
		case c == '"' || c == '\'':
			start := i
			i++
			for i < len(src) && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			end := min(i, len(src))
			toks = append(toks, token{tokString, string(src[start+1 : end]), start})
			i = min(i+1, len(src))
		case c == '`':
			i = skipTemplate(src, i+1)
			if i < len(src) && src[i] == '{' { // stopped at "${"
				braces = append(braces, depth)
				depth++
				i++
			}
		case c == '{':
			depth++
			toks = append(toks, token{tokPunct, "{", i})
			i++
		case c == '}':
			depth--
			if n := len(braces); n > 0 && braces[n-1] == depth {
				braces = braces[:n-1]
				i = skipTemplate(src, i+1)
				if i < len(src) && src[i] == '{' {
					braces = append(braces, depth)
					depth++
					i++
				}
				continue
			}
			toks = append(toks, token{tokPunct, "}", i})
			i++
		case c == '/' && regexAllowed(toks):
			i = skipRegex(src, i+1)
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdent(src[i]) || src[i] == '.') {
				i++
			}
		case isIdentStart(src, i):
			start := i
			for i < len(src) && isIdentPart(src, i) {
				_, n := utf8.DecodeRune(src[i:])
				i += n
			}
			toks = append(toks, token{tokIdent, string(src[start:i]), start})
		default:
			toks = append(toks, token{tokPunct, string(c), i})
			i++
		}
	}
	return toks
}

// skipTemplate skips template text from i; it returns the offset after the
// closing backquote, or of the '{' of a "${" substitution.
func skipTemplate(src []byte, i int) int {
	for i < len(src) {
		switch {
		case src[i] == '\\':
			i += 2
		case src[i] == '`':
			return i + 1
		case src[i] == '$' && i+1 < len(src) && src[i+1] == '{':
			return i + 1
		default:
			i++
		}
	}
	return len(src)
}

// skipRegex skips a regular expression literal body and its flags.
func skipRegex(src []byte, i int) int {
	inClass := false
	for i < len(src) && src[i] != '\n' {
		switch {
		case src[i] == '\\':
			i++
		case src[i] == '[':
			inClass = true
		case src[i] == ']':
			inClass = false
		case src[i] == '/' && !inClass:
			i++
			for i < len(src) && isIdent(src[i]) {
				i++
			}
			return i
		}
		i++
	}
	return min(i, len(src))
}

// regexAllowed reports whether a '/' after toks starts a regular
// expression rather than a division.
func regexAllowed(toks []token) bool {
	if len(toks) == 0 {
		return true
	}
	t := toks[len(toks)-1]
	switch t.kind {
	case tokString:
		return false
	case tokIdent:
		switch t.text {
		case "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await":
			return true
		}
		return false
	}
	return t.text != ")" && t.text != "]" && t.text != "}"
}

func isIdentStart(src []byte, i int) bool {
	r, _ := utf8.DecodeRune(src[i:])
	return r == '_' || r == '$' || unicode.IsLetter(r)
}

func isIdentPart(src []byte, i int) bool {
	r, _ := utf8.DecodeRune(src[i:])
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
