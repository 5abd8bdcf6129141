package bundle

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// Limits on what the bundler is given to parse. esbuild parses in this
// process, recursively: a source nested hundreds of thousands of levels
// deep overflows the Go stack, which no recover catches, and takes the
// process (the CLI, or every tenant of the service) down with it. These
// checks are the first wall; the builder process (internal/builder) is the
// second, for whatever they miss.
const (
	// MaxNesting is the deepest bracket nesting a source file may have.
	// Hand-written code stays far below it.
	MaxNesting = 1000
	// MaxChain is the longest chain of right-recursive constructs (prefix
	// operators, ?:, =>, assignments, **, else, labels) one statement may
	// hold at one bracket depth: parsers recurse on each link as on a
	// bracket, and no code needs thousands of them.
	MaxChain = 5000
	// MaxTerms is the most operators one expression may hold at one
	// bracket depth (a+b+c…: a parser loops over them, but goja's compiler
	// takes time quadratic in their number, uninterruptibly, when the
	// settings are read: 1,200,000 terms ran for hours).
	MaxTerms = 10000
	// MaxSourceBytes is the largest source file the bundler reads.
	MaxSourceBytes = 8 << 20
	// MaxModules bounds the files one build parses: esbuild links some
	// import graphs (chains of `export *`) in time quadratic in their
	// length, and a workflow with its packages needs far fewer.
	MaxModules = 500
	// MaxTotalSourceBytes bounds what one build reads in all: parsing
	// costs many times the source size in memory, long before the
	// MaxBundleSize check on the output can run.
	MaxTotalSourceBytes = 24 << 20
	// MaxSharedBytes bounds one esbuild run over several entries: every
	// entry's bundle may hold every file the run reads, and esbuild keeps
	// all the bundles in memory, so the bytes read times the entries must
	// stay below it (past it each entry is built on its own).
	MaxSharedBytes = 64 << 20
	// MaxTotalOutputBytes bounds the bundles and source maps of one
	// repository's workflows together: each bundle may reach
	// MaxBundleSize, and a thousand workflows sharing one large module
	// would otherwise keep gigabytes.
	MaxTotalOutputBytes = 128 << 20
	// MaxRepositorySourceBytes bounds what the builds of one repository's
	// workflows read together when each is built on its own: a thousand
	// workflows sharing a 20 MB module would otherwise parse 20 GB.
	MaxRepositorySourceBytes = 256 << 20
	// MaxStarPaths bounds the paths through the `export * from` graph of
	// one build: esbuild links re-exports by walking every path, so a
	// dozen modules re-exporting each other cost exponential time.
	MaxStarPaths = 10000
)

// parsedFiles are the files esbuild parses (and so recurses into) by
// their extension.
var parsedFiles = regexp.MustCompile(`\.([mc]?[jt]sx?|json|css)$`)

// reader counts the bytes one esbuild run reads, across its goroutines.
type reader struct {
	root    string // the build root, to report paths relative to it
	mu      sync.Mutex
	total   int64
	modules int
	// entries is how many entries the run builds at once, and shareCap
	// bounds their source times their number (MaxSharedBytes).
	entries  int
	shareCap int64
	// stars is the export * graph seen so far: file → re-exported files.
	stars map[string][]string
	// onLoad, when set, is told each file before it is parsed (the
	// builder process reports it, to locate a crash).
	onLoad func(path string)
}

// module counts one parsed file, reporting whether it stays in bounds.
func (r *reader) module() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.modules++
	return r.modules <= MaxModules
}

// take adds n bytes to the total, reporting whether it stays in bounds.
func (r *reader) take(n int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total += n
	return r.total <= MaxTotalSourceBytes
}

// starPaths adds the export * edges of the file at path and reports
// whether the walks through the graph stay within MaxStarPaths. Walks
// are counted up to the number of files in the graph (no simple path is
// longer), an upper bound on what esbuild walks.
func (r *reader) starPaths(path string, specs []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stars == nil {
		r.stars = map[string][]string{}
	}
	for _, spec := range specs {
		r.stars[path] = append(r.stars[path], starTarget(path, spec))
	}
	nodes := map[string]int{}
	for from, tos := range r.stars {
		nodes[from] = 0
		for _, to := range tos {
			nodes[to] = 0
		}
	}
	walks := map[string]int{}
	for n := range nodes {
		walks[n] = 1
	}
	total := 0
	for range len(nodes) {
		next := map[string]int{}
		any := false
		for from, tos := range r.stars {
			w := 0
			for _, to := range tos {
				w = min(w+walks[to], MaxStarPaths+1)
			}
			if w > 0 {
				next[from], any = w, true
				if total += w; total > MaxStarPaths {
					return false
				}
			}
		}
		if !any {
			break
		}
		walks = next
	}
	return true
}

// starTarget names the file an export * specifier written in path most
// likely resolves to (its key in the graph).
func starTarget(path, spec string) string {
	if isBare(spec) {
		return "package:" + spec
	}
	base := filepath.Join(filepath.Dir(path), filepath.FromSlash(spec))
	for _, c := range []string{"", ".ts", ".tsx", ".js", ".jsx", ".mts", ".mjs", ".cts", ".cjs"} {
		if info, err := os.Stat(base + c); err == nil && info.Mode().IsRegular() {
			return base + c
		}
	}
	for _, c := range []string{"/index.ts", "/index.tsx", "/index.js", "/index.jsx"} {
		if info, err := os.Stat(base + c); err == nil && info.Mode().IsRegular() {
			return base + c
		}
	}
	return base
}

// exportStar matches `export * from "x"` (not `export * as ns`, which
// makes a namespace and is not walked).
var exportStar = regexp.MustCompile(`export\s*\*\s*from\s*["']([^"'\n]+)["']`)

// shared reports whether the bytes read so far, once in each entry's
// bundle, stay within the run's share cap.
func (r *reader) shared() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entries <= 1 || r.total*int64(r.entries) <= r.shareCap
}

// guardSources is the esbuild plugin that checks every file before
// esbuild reads it: only regular files (never a device, FIFO or socket,
// which would block or never end), at most MaxSourceBytes each and
// MaxTotalSourceBytes together; files esbuild parses are read here and
// refused when they nest deeper than MaxNesting or chain longer than
// MaxChain, inline source maps included; and `sourceMappingURL` comments
// that name a file are dropped, since esbuild would read that file
// wherever it is, outside the repository included.
func guardSources(r *reader) api.Plugin {
	return api.Plugin{
		Name: "flowgate-guard-sources",
		Setup: func(b api.PluginBuild) {
			b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "file"}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
				// Errors are located in the file itself, not at its import.
				at := func(line int, format string, a ...any) (api.OnLoadResult, error) {
					loc := &api.Location{File: relSlash(r.root, args.Path), Line: max(line, 1)}
					return api.OnLoadResult{Errors: []api.Message{{Text: fmt.Sprintf(format, a...), Location: loc}}}, nil
				}
				fail := func(format string, a ...any) (api.OnLoadResult, error) { return at(1, format, a...) }
				name := filepath.Base(args.Path)
				info, err := os.Stat(args.Path)
				if err != nil {
					return api.OnLoadResult{}, nil // esbuild reports it
				}
				if !info.Mode().IsRegular() {
					return fail("%s is not a regular file (%s): workflows may only import regular files", name, fileKind(info.Mode()))
				}
				if info.Size() > MaxSourceBytes {
					return fail("%s is %d MiB; source files may be at most %d MiB", name, info.Size()>>20, MaxSourceBytes>>20)
				}
				if !r.take(info.Size()) {
					return fail("the files this workflow imports add up to more than %d MiB (at %s): import only the modules the workflow needs", MaxTotalSourceBytes>>20, name)
				}
				if !r.shared() {
					// Never shown: the caller builds each entry on its own.
					return fail("too much source for %d entries in one build", r.entries)
				}
				typ := args.With["type"]
				if typ != "" && typ != "json" || typ == "" && !parsedFiles.MatchString(args.Path) {
					return api.OnLoadResult{}, nil // text, file, base64…: not parsed
				}
				if !r.module() {
					return fail("this workflow imports more than %d modules (at %s): import only the modules the workflow needs", MaxModules, name)
				}
				if r.onLoad != nil {
					r.onLoad(relSlash(r.root, args.Path))
				}
				data, err := readRegular(args.Path, MaxSourceBytes)
				if err != nil {
					return fail("%s cannot be read: %v", name, err)
				}
				if msg, line := checkShape(name, data); msg != "" {
					return at(line, "%s", msg)
				}
				if ms := exportStar.FindAllSubmatch(data, -1); len(ms) > 0 {
					specs := make([]string, len(ms))
					for i, m := range ms {
						specs[i] = string(m[1])
					}
					if !r.starPaths(args.Path, specs) {
						return fail("the export * from statements of the files this workflow imports re-export each other along more than %d paths (at %s): esbuild would take exponential time to link them. Re-export names explicitly (export { a, b } from ...)", MaxStarPaths, name)
					}
				}
				src := string(data)
				loader := loaderFor(args.Path)
				if typ == "json" {
					loader = api.LoaderJSON
				} else if loader != api.LoaderJSON {
					if msg, line := checkInlineMaps(name, src); msg != "" {
						return at(line, "%s", msg)
					}
					src = dropMapComments(src)
				}
				return api.OnLoadResult{Contents: &src, Loader: loader}, nil
			})
		},
	}
}

// checkShape returns why a source text could exhaust a parser, and the
// line, or "".
func checkShape(name string, data []byte) (string, int) {
	s := measure(data)
	if s.depth > MaxNesting {
		return fmt.Sprintf("%s nests brackets more than %d levels deep (at line %d): no workflow needs that, and parsing it could exhaust the build",
			name, MaxNesting, s.depthLine), s.depthLine
	}
	if s.terms > MaxTerms {
		return fmt.Sprintf("%s has more than %d operators in one expression (at line %d): no workflow needs that, and compiling it could exhaust the build",
			name, MaxTerms, s.termsLine), s.termsLine
	}
	if s.chain > MaxChain {
		return fmt.Sprintf("%s chains more than %d operators, arrows, else branches or labels in one statement (at line %d): no workflow needs that, and parsing it could exhaust the build",
			name, MaxChain, s.chainLine), s.chainLine
	}
	return "", 0
}

// checkInlineMaps checks the shape of source maps carried inline as data:
// URLs, which esbuild decodes and parses as JSON.
func checkInlineMaps(name, src string) (string, int) {
	if !strings.Contains(src, "sourceMappingURL=data:") {
		return "", 0
	}
	for _, m := range inlineMap.FindAllStringSubmatchIndex(src, -1) {
		data := []byte(src[m[4]:m[5]])
		if m[2] >= 0 {
			dec, err := base64.StdEncoding.DecodeString(strings.TrimRight(string(data), "*/"))
			if err != nil {
				continue // esbuild ignores a map it cannot decode
			}
			data = dec
		}
		if msg, _ := checkShape(name+"'s inline source map", data); msg != "" {
			return msg, strings.Count(src[:m[0]], "\n") + 1
		}
	}
	return "", 0
}

// inlineMap matches an inline source map's data and whether it is base64.
var inlineMap = regexp.MustCompile(`sourceMappingURL=data:[^,\s]*?(;base64)?,(\S*)`)

// readRegular reads at most limit bytes of a file that must be regular
// when it is opened (not only when it was looked at).
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fileKind(info.Mode()))
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%d MiB, over the %d MiB limit", info.Size()>>20, limit>>20)
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// fileKind names a file mode for messages.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a folder"
	}
	return "not a regular file"
}

// nesting returns the deepest bracket nesting of a source text and the
// line where it first passes MaxNesting (see measure).
func nesting(src []byte) (line, max int) {
	s := measure(src)
	return s.depthLine, s.depth
}

// shape is what measure found: the deepest bracket nesting and the longest
// chain of right-recursive constructs, each with the line where it first
// passed its limit.
type shape struct {
	depth, depthLine int
	chain, chainLine int
	terms, termsLine int
}

// operators are the characters of JavaScript's operators; a run of them
// is one operator to MaxTerms.
const operators = "+-*/%&|^<>=!?:~"

// chainWords are keywords a parser recurses on without a bracket.
var chainWords = map[string]bool{
	"typeof": true, "void": true, "delete": true, "new": true, "await": true, "yield": true, "else": true,
}

// measure scans a source text (code inside template literals' ${}
// included). It is a small tokenizer: strings, template text, comments
// and regular expression literals are skipped, a regexp told from a
// division by the token before it, as JavaScript parsers do. Chains are
// counted per bracket depth and reset by ';' and ',' at that depth.
func measure(src []byte) shape { return measureAt(src, 0) }

// maxRescan is how many literals deep measureAt reads a literal's text as
// code again.
const maxRescan = 2

// measureAt is measure for a text that is itself the inside of a literal
// level literals deep.
func measureAt(src []byte, level int) shape {
	var (
		s     shape
		depth int
		ln    = 1
		prev  byte   // the last significant character outside literals
		word  string // the last identifier or keyword, when prev ends one
		tmpl  []int  // depths at which a template's ${ opened
		chain = []int{0}
		terms = []int{0} // operators per bracket depth, as chain
	)
	deeper := func() {
		depth++
		if depth > s.depth {
			s.depth = depth
			if s.depth == MaxNesting+1 {
				s.depthLine = ln
			}
		}
		if depth < len(chain) {
			chain[depth] = 0
			terms[depth] = 0
		} else {
			chain = append(chain, 0)
			terms = append(terms, 0)
		}
	}
	// hidden counts the brackets inside a literal or comment, src[from:to]
	// (starting on line at), as if they were code, and measures its chains
	// as code: telling a regular
	// expression from a division, or a block from an object, takes a
	// parser, and a wrong guess (`a! / (((`, `if (a) /'/, (((`) would
	// otherwise hide real brackets inside what looks like a literal.
	hidden := func(from, to, at int) {
		if level < maxRescan && to > from {
			// Chains too: the text is read as code once more.
			sub := measureAt(src[from:min(to, len(src))], level+1)
			if sub.chain > s.chain {
				s.chain = sub.chain
				if sub.chainLine > 0 && s.chainLine == 0 {
					s.chainLine = at + sub.chainLine - 1
				}
			}
			if sub.terms > s.terms {
				s.terms = sub.terms
				if sub.termsLine > 0 && s.termsLine == 0 {
					s.termsLine = at + sub.termsLine - 1
				}
			}
		}
		d := depth
		for j := from; j < min(to, len(src)); j++ {
			switch src[j] {
			case '\n':
				at++
			case '(', '[', '{':
				if d++; d > s.depth {
					s.depth = d
					if d == MaxNesting+1 {
						s.depthLine = at
					}
				}
			case ')', ']', '}':
				d = max(d-1, depth)
			}
		}
	}
	// shallower closes a bracket. The operators of a ( or [ since the
	// last ; or , count in the enclosing expression too: (a+…+a)+a is one
	// operand chain to a compiler that walks the left operand. A }
	// carries nothing: minified code puts function after function in
	// one block, each ending without a ;.
	shallower := func(carry bool) {
		if depth == 0 {
			return
		}
		depth--
		if carry {
			terms[depth] += terms[depth+1]
		}
		if terms[depth] > s.terms {
			s.terms = terms[depth]
			if s.terms > MaxTerms && s.termsLine == 0 {
				s.termsLine = ln
			}
		}
	}
	term := func() {
		terms[depth]++
		if terms[depth] > s.terms {
			s.terms = terms[depth]
			if s.terms > MaxTerms && s.termsLine == 0 {
				s.termsLine = ln
			}
		}
	}
	link := func() {
		chain[depth]++
		if chain[depth] > s.chain {
			s.chain = chain[depth]
			if s.chain == MaxChain+1 {
				s.chainLine = ln
			}
		}
	}
	// tmplEnd scans template text from i (just past ` or }) to the
	// closing ` or the next ${, returning the index of the last byte read.
	tmplEnd := func(i int) (end int) {
		from, at := i, ln
		defer func() { hidden(from, end, at) }()
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
	next := func(i int) byte {
		if i+1 < len(src) {
			return src[i+1]
		}
		return 0
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if strings.IndexByte(operators, c) >= 0 && (prev == 0 || strings.IndexByte(operators, prev) < 0) &&
			!(c == '/' && (next(i) == '/' || next(i) == '*')) {
			term()
		}
		switch {
		case c == '\n':
			ln++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '(' || c == '[' || c == '{':
			deeper()
		case c == ')' || c == ']':
			shallower(true)
		case c == '}':
			shallower(false)
			if n := len(tmpl); n > 0 && tmpl[n-1] == depth {
				tmpl = tmpl[:n-1]
				i = tmplEnd(i + 1)
				prev, word = '`', ""
				continue
			}
		case c == '"' || c == '\'':
			from, at := i+1, ln
			for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
			hidden(from, i, at)
		case c == '`':
			i = tmplEnd(i + 1)
		case c == '/' && next(i) == '/':
			from := i + 2
			for i < len(src) && src[i] != '\n' {
				i++
			}
			hidden(from, i, ln)
			ln++
			continue
		case c == '/' && next(i) == '*':
			from, at := i+2, ln
			for i += 2; i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/'); i++ {
				if src[i] == '\n' {
					ln++
				}
			}
			hidden(from, i, at)
			i++
			continue
		case c == '/' && regexAllowed(prev, word):
			inClass := false
			from := i + 1
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
			hidden(from, i, ln)
		case isIdent(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			word = string(src[i:j])
			if chainWords[word] {
				link()
			}
			i = j - 1
			prev = 'a'
			continue
		case c == ';' || c == ',':
			chain[depth] = 0
			terms[depth] = 0
		case c == '=' && next(i) == '>':
			link()
			i++
		case c == '=' && next(i) == '=':
			for i+1 < len(src) && src[i+1] == '=' {
				i++
			}
		case c == '=':
			if !strings.ContainsRune("=!<>", rune(prev)) || prev == 0 {
				link()
			}
		case c == '?' && next(i) != '.' && next(i) != '?':
			link()
		case c == '?':
			i++
		case c == ':' || c == '~':
			link()
		case c == '!' && next(i) != '=':
			link()
		case c == '*' && next(i) == '*':
			link()
			i++
		case (c == '+' || c == '-') && next(i) != c && !strings.ContainsRune("a)]}`\"'", rune(prev)) && prev != 0:
			link() // a prefix + or -
		}
		prev, word = c, ""
	}
	return s
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
	case "css":
		return api.LoaderCSS
	}
	return api.LoaderJS
}
