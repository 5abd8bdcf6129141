// Command releasetool is the part of .ci/release.sh that must not depend on
// the host's tar, zip or JSON tools: reproducible archives, SBOMs, the
// checksums file, and reading a binary's build information.
//
//	releasetool info BINARY                        key=value lines: version, path, goos, goarch, revision, modified
//	releasetool archive -mtime UNIX OUT FILE...    OUT is .tar.gz or .zip; entries are the files' base names
//	releasetool sbom -created UNIX -label L OUT BINARY
//	releasetool checksums DIR                      writes DIR/checksums.txt over every other file in DIR
//	releasetool serve -addr 127.0.0.1:0 DIR         serves DIR over HTTP like a release download
//	                                               (tests); prints its URL, logs each request
package main

import (
	"debug/buildinfo"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/flowgate/flowgate/internal/release"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "releasetool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: releasetool info|archive|sbom|checksums [flags] [args]")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	mtime := fs.Int64("mtime", -1, "modification time of every entry (Unix seconds)")
	created := fs.Int64("created", -1, "the SBOM's creation time (Unix seconds)")
	label := fs.String("label", "", "the release's name for the artifact")
	addr := fs.String("addr", "127.0.0.1:0", "address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	args = fs.Args()
	switch cmd {
	case "info":
		if len(args) != 1 {
			return fmt.Errorf("info: want one binary")
		}
		bi, err := buildinfo.ReadFile(args[0])
		if err != nil {
			return err
		}
		set := map[string]string{}
		for _, s := range bi.Settings {
			set[s.Key] = s.Value
		}
		fmt.Printf("version=%s\npath=%s\ngo=%s\ngoos=%s\ngoarch=%s\nrevision=%s\nmodified=%s\ntrimpath=%s\n",
			bi.Main.Version, bi.Path, bi.GoVersion, set["GOOS"], set["GOARCH"], set["vcs.revision"], set["vcs.modified"], set["-trimpath"])
		return nil
	case "archive":
		if len(args) < 2 || *mtime < 0 {
			return fmt.Errorf("archive: want -mtime UNIX OUT FILE [FILE]")
		}
		var entries []release.Entry
		for _, p := range args[1:] {
			entries = append(entries, release.Entry{Name: filepath.Base(p), Path: p})
		}
		return writeFile(args[0], func(f *os.File) error {
			return release.WriteArchive(f, args[0], entries, time.Unix(*mtime, 0))
		})
	case "sbom":
		if len(args) != 2 || *created < 0 || *label == "" {
			return fmt.Errorf("sbom: want -created UNIX -label NAME OUT BINARY")
		}
		bi, err := buildinfo.ReadFile(args[1])
		if err != nil {
			return err
		}
		sum, err := release.FileSHA256(args[1])
		if err != nil {
			return err
		}
		doc, err := release.SBOM(bi, release.Artifact{Name: filepath.Base(args[1]), Label: *label, SHA256: sum}, time.Unix(*created, 0))
		if err != nil {
			return err
		}
		return os.WriteFile(args[0], doc, 0o644)
	case "checksums":
		if len(args) != 1 {
			return fmt.Errorf("checksums: want DIR")
		}
		dirents, err := os.ReadDir(args[0])
		if err != nil {
			return err
		}
		var names []string
		for _, d := range dirents {
			if d.Type().IsRegular() && d.Name() != "checksums.txt" {
				names = append(names, d.Name())
			}
		}
		out, err := release.Checksums(args[0], names)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(args[0], "checksums.txt"), out, 0o644)
	case "serve":
		if len(args) != 1 {
			return fmt.Errorf("serve: want DIR")
		}
		return serve(*addr, args[0])
	}
	return fmt.Errorf("unknown command %q: use info, archive, sbom, checksums or serve", cmd)
}

// writeFile writes OUT through a temporary file so a failure leaves no
// half-written archive behind.
func writeFile(out string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(out), ".releasetool-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

// serve plays a release host for the Action's tests: GET <url>/<tag>/<file>
// answers DIR/<tag>/<file>, anything missing is a 404, as on GitHub.
func serve(addr, dir string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	files := http.FileServer(http.Dir(dir))
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s", r.Method, r.URL.Path)
		files.ServeHTTP(w, r)
	}))
}
