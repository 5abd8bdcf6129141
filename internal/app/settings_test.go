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
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`env\("([A-Z0-9_]+)"\)`)
	listed := map[string]bool{}
	for _, s := range Settings {
		listed[s.Var] = true
	}
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen++
			if !listed[m[1]] {
				t.Errorf("%s reads FLOWGATE_%s, which --help does not list", f, m[1])
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found only %d env reads: the pattern no longer matches the code", seen)
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
