// Package version says which build of Flowgate is running: the module
// version and the VCS commit the Go toolchain stamped into the binary.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info is what the build recorded.
type Info struct {
	Module   string // module version, "(devel)" for a build from a checkout
	Commit   string // VCS revision, "" when not built from a repository
	Time     string // commit time (RFC 3339)
	Modified bool   // the work tree had uncommitted changes
	Go       string // toolchain
}

// Read reads the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Module: "unknown"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Version, Go: bi.GoVersion}
	if in.Module == "" {
		in.Module = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Commit = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the one line --version prints: "<program> <module> commit
// <sha> (<time>, modified) <go>".
func (in Info) String(program string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", program, in.Module)
	if in.Commit != "" {
		fmt.Fprintf(&b, " commit %s", in.Commit)
		var notes []string
		if in.Time != "" {
			notes = append(notes, in.Time)
		}
		if in.Modified {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
		}
	}
	if in.Go != "" {
		fmt.Fprintf(&b, " %s", in.Go)
	}
	return b.String()
}
