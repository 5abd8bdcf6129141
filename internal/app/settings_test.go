package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSettingsListEveryVariable: every FLOWGATE_ variable this package
// reads is in the --help table.
func TestSettingsListEveryVariable(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`env\("([A-Z0-9_]+)"\)|\{"([A-Z0-9_]+)", &c\.`)
	listed := map[string]bool{}
	for _, s := range Settings {
		listed[s.Var] = true
	}
	seen, read := 0, map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if f != "config.go" {
				t.Errorf("%s reads FLOWGATE_%s: settings are read into Config, in config.go only", f, m[1]+m[2])
				continue
			}
			v := m[1] + m[2]
			seen++
			read[v] = true
			if !listed[v] {
				t.Errorf("%s reads FLOWGATE_%s, which --help does not list", f, v)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found only %d env reads: the pattern no longer matches the code", seen)
	}
	for v := range listed {
		if !read[v] {
			t.Errorf("--help lists FLOWGATE_%s, which FromEnv does not read", v)
		}
	}
	var b strings.Builder
	PrintSettings(&b)
	for _, s := range Settings {
		if !strings.Contains(b.String(), "FLOWGATE_"+s.Var+" ") {
			t.Errorf("the table lacks %s", s.Var)
		}
	}
}

func TestLoopbackWebhookWarning(t *testing.T) {
	t.Parallel()
	gh := Config{GitHubAppID: 1, GitHubPrivateKey: "k", GitHubWebhookSecret: "s"}
	for name, tc := range map[string]struct {
		cfg  Config
		warn bool
	}{
		"no GitHub":             {Config{Addr: "127.0.0.1:8080"}, false},
		"default address":       {with(gh, "127.0.0.1:8080", ""), true},
		"localhost public URL":  {with(gh, "0.0.0.0:8080", "http://localhost:8080"), true},
		"loopback v6":           {with(gh, "[::1]:8080", ""), true},
		"every address":         {with(gh, "0.0.0.0:8080", ""), false},
		"public URL":            {with(gh, "127.0.0.1:8080", "https://flowgate.example.com"), false},
		"public URL, IP":        {with(gh, "127.0.0.1:8080", "http://203.0.113.9"), false},
		"public URL, loopback4": {with(gh, "0.0.0.0:8080", "http://127.0.0.2:8080"), true},
	} {
		if got := loopbackWebhook(tc.cfg) != ""; got != tc.warn {
			t.Errorf("%s: warn %v, want %v", name, got, tc.warn)
		}
	}
}

func with(c Config, addr, public string) Config {
	c.Addr, c.PublicURL = addr, public
	return c
}

// TestNoSettingReadOutsideConfig: apart from the CLI's own client settings
// and test dependencies, no package reads a FLOWGATE_ variable by name:
// the service's settings all come through Config.
func TestNoSettingReadOutsideConfig(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	allowed := map[string]bool{
		"cmd/flowgate/manage.go":       true, // the CLI's FLOWGATE_SERVER and FLOWGATE_ADMIN_TOKEN: a client's settings, not the service's
		"internal/sandbox/protocol.go": true, // FLOWGATE_SANDBOX_WORKER: set by the supervisor for its workers
		"internal/builder/child.go":    true, // FLOWGATE_BUILDER: likewise for builder processes
		"internal/testenv":             true, // test dependencies
		"internal/store/storetest":     true,
		"internal/app/config.go":       true,
	}
	re := regexp.MustCompile(`Getenv\("FLOWGATE_|LookupEnv\("FLOWGATE_|(^|[^A-Za-z0-9_.])env\("[A-Z]`)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if allowed[rel] || rel == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || allowed[rel] {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if l := strings.TrimSpace(line); !strings.HasPrefix(l, "//") && re.MatchString(l) {
				t.Errorf("%s:%d reads a FLOWGATE_ setting: make it a Config field\n\t%s", rel, i+1, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
