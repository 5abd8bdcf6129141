package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for name, tc := range map[string]struct {
		bi   debug.BuildInfo
		want string
	}{
		"release": {debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-07T01:02:03Z"}}},
			"flowgate v1.2.3 commit abc123 (2026-12-07T01:02:03Z) go1.26.0"},
		"dirty checkout": {debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "def456"}, {Key: "vcs.modified", Value: "true"}}},
			"flowgate (devel) commit def456 (modified) go1.26.0"},
		"no vcs": {debug.BuildInfo{Main: debug.Module{}}, "flowgate (devel)"},
	} {
		if got := fromBuildInfo(&tc.bi).String("flowgate"); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
	if s := Read().String("x"); !strings.HasPrefix(s, "x ") {
		t.Errorf("Read: %q", s)
	}
}
