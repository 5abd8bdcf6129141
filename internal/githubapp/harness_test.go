package githubapp

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/prdiff"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

const (
	testRepo = "acme/flows"
	testInst = 7
	// testRepoID is GitHub's id of testRepo in every payload (the examples
	// carry several): environments are bound to it.
	testRepoID = 186853002
	wfPath     = "kindeSrc/environment/workflows/tokens/addClaimsWorkflow.ts"
)

// harness is one test's world: the local GitHub, a control plane on
// SQLite, and the App between them.
type harness struct {
	t     testing.TB
	gh    *githubtest.Server
	svc   *deploy.Service
	db    *store.DB
	app   *App
	seq   atomic.Int64
	clock time.Time
}

// harnessOptions are the App's options plus what the harness gives the
// deploy pipeline it runs on.
type harnessOptions struct {
	Options
	NPM   npm.Options
	Check func(ctx context.Context, dir string, opts project.Options) (*project.Report, error)
	// Diff gives the App a behaviour differ on the deploy service, which
	// replays in an in-process sandbox.
	Diff bool
}

func newHarness(t testing.TB, mod ...func(*harnessOptions)) *harness {
	t.Helper()
	gh, clients := fakeGitHub(t)
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	ho := harnessOptions{Options: Options{Clients: clients, WorkDir: t.TempDir(), Log: quiet()},
		NPM: npm.Options{Registry: "http://127.0.0.1:1/", CacheDir: t.TempDir()}}
	for _, m := range mod {
		m(&ho)
	}
	dopts := deploy.Options{Store: db, Artifacts: arts, Cipher: cipher, Logger: quiet(), DataDir: t.TempDir(), NPM: ho.NPM}
	if ho.Check != nil {
		dopts.Check = func(ctx context.Context, dir string) (*project.Report, error) {
			return ho.Check(ctx, dir, project.Options{})
		}
	}
	svc, err := deploy.New(dopts)
	if err != nil {
		t.Fatal(err)
	}
	opts := ho.Options
	opts.Deploy = svc
	if ho.Diff {
		runner := sandbox.NewInProcess(sandbox.Options{})
		t.Cleanup(func() { runner.Close() })
		if opts.Diff, err = prdiff.New(prdiff.Options{Source: svc, Runner: runner}); err != nil {
			t.Fatal(err)
		}
	}
	app, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, gh: gh, svc: svc, db: db, app: app, clock: time.Now().UTC().Truncate(time.Second)}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// deliver runs one delivery through the handlers, as the job would.
func (h *harness) deliver(event string, payload []byte) error {
	h.t.Helper()
	n := h.seq.Add(1)
	return h.deliverAs(fmt.Sprintf("delivery-%d", n), event, payload, h.clock.Add(time.Duration(n)*time.Second))
}

func (h *harness) deliverAs(id, event string, payload []byte, at time.Time) error {
	return h.app.Handle(context.Background(), DeliveryArgs{ID: id, Event: event, Payload: payload, ReceivedAt: at})
}

// files is a repository snapshot: path -> content.
type files map[string]string

func starter(plan string) files {
	return files{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		"README.md":  "# flows\n",
		wfPath: `export const workflowSettings = {
  id: "addClaims",
  name: "Add claims",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {} },
};

export default async function addClaims(event: any) {
  kinde.accessToken.setCustomClaim("plan", "` + plan + `");
}
declare const kinde: any;
`,
	}
}

// entry is one raw tar entry (for hostile archives).
type entry struct {
	name     string
	typ      byte
	body     string
	linkname string
	size     int64 // when > len(body): a zero-filled body of this size
}

// tarball packs fs under GitHub's "owner-repo-sha/" prefix, plus extra
// raw entries.
func tarball(t testing.TB, sha string, fs files, extra ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	prefix := "acme-flows-" + sha[:7] + "/"
	tw.WriteHeader(&tar.Header{Name: prefix, Typeflag: tar.TypeDir, Mode: 0o755})
	names := make([]string, 0, len(fs))
	for n := range fs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		extra = append([]entry{{name: prefix + n, typ: tar.TypeReg, body: fs[n]}}, extra...)
	}
	for _, e := range extra {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.linkname}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
			if e.size > hdr.Size {
				hdr.Size = e.size
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
			if e.size > int64(len(e.body)) {
				io.CopyN(tw, zeros{}, e.size-int64(len(e.body)))
			}
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func sha(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// reaim rewrites a real webhook payload to point at the test repository
// and installation, then applies set (dotted paths).
func reaim(t testing.TB, raw json.RawMessage, set map[string]any) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	owner, name, _ := strings.Cut(testRepo, "/")
	if repo, ok := p["repository"].(map[string]any); ok {
		repo["id"], repo["name"], repo["full_name"], repo["default_branch"] = testRepoID, name, testRepo, "main"
		if o, ok := repo["owner"].(map[string]any); ok {
			o["login"], o["name"] = owner, owner
		}
	}
	p["installation"] = map[string]any{"id": testInst, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNw=="}
	for k, v := range set {
		setPath(p, k, v)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, k := range parts[:len(parts)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// push is a real push payload to main at after, changing paths.
func (h *harness) push(after string, changed []string, set ...map[string]any) []byte {
	h.t.Helper()
	var mods []any
	for _, c := range changed {
		mods = append(mods, c)
	}
	if mods == nil {
		mods = []any{}
	}
	s := map[string]any{
		"ref": "refs/heads/main", "after": after, "before": sha("before-" + after), "forced": false, "deleted": false, "created": false,
		"commits": []any{map[string]any{"id": after, "added": []any{}, "removed": []any{}, "modified": mods, "message": "change", "distinct": true}},
	}
	for _, m := range set {
		for k, v := range m {
			s[k] = v
		}
	}
	return reaim(h.t, example(h.t, "push", ""), s)
}

// commit serves fs as commit sha and returns a push of it.
func (h *harness) commit(label string, fs files, changed ...string) (string, []byte) {
	h.t.Helper()
	s := sha(label)
	h.gh.SetTarball(testRepo, s, tarball(h.t, s, fs))
	if changed == nil {
		changed = []string{wfPath}
	}
	return s, h.push(s, changed)
}

// checks returns the check runs on sha by name (the newest of each name).
func (h *harness) checks(sha string) map[string]githubtest.CheckRun {
	out := map[string]githubtest.CheckRun{}
	for _, c := range h.gh.CheckRuns(testRepo) {
		if c.HeadSHA == sha {
			out[c.Name] = c
		}
	}
	return out
}

func (h *harness) live(wf string) string {
	h.t.Helper()
	w, err := h.svc.Workflow(context.Background(), DefaultEnvironment, wf)
	if err != nil {
		return ""
	}
	return w.LiveDeploymentID
}

func (h *harness) noBodyErrors() {
	h.t.Helper()
	if errs := h.gh.BodyErrors(); len(errs) > 0 {
		h.t.Fatalf("requests GitHub would refuse: %v", errs)
	}
}

// retryingDownload is the default download client with fast retries.
func retryingDownload() *http.Client {
	return &http.Client{Transport: &retryTransport{base: http.DefaultTransport, policy: RetryPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond}.withDefaults()}}
}
