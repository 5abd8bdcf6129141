package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

const recAdmin = "admin-token-for-recording-tests"

// recordingWorld is a server with one live workflow (addClaims on
// user:tokens_generation) that reads a secret variable, and its runtime
// token.
type recordingWorld struct {
	srv   *Server
	svc   *deploy.Service
	db    *store.DB
	token string
}

const claimsWorkflow = `
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: { "kinde.env": {} } };
export default async function handle(event: any) { return { ok: kinde.env.get("API_KEY")?.value?.length }; }
`

func newRecordingWorld(t testing.TB) *recordingWorld { return newRecordingWorldWith(t, claimsWorkflow) }

// newRecordingWorldWith serves code as the addClaims workflow; allow are
// loopback hosts its fetches may reach.
func newRecordingWorldWith(t testing.TB, code string, allow ...string) *recordingWorld {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	db, err := store.Open(ctx, "", data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arts, err := artifact.Open(ctx, filepath.Join(data, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", data)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: arts, Cipher: cipher, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Deploy: svc, Runner: sandbox.NewInProcess(sandbox.Options{}), AdminToken: recAdmin, Logger: quiet,
		AllowHosts: allow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	dir := t.TempDir()
	files := map[string]string{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		"kindeSrc/environment/workflows/addClaimsWorkflow.ts": code,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.deploy.Sync(ctx, deploy.SyncRequest{Env: "prod", Dir: dir, CommitSHA: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.deploy.PutVariable(ctx, "prod", "API_KEY", "sk_live_51HxSecretValue", true); err != nil {
		t.Fatal(err)
	}
	w := &recordingWorld{srv: srv, svc: srv.deploy, db: db}
	var tok struct{ RuntimeToken string }
	w.admin(t, "POST", "/api/v1/environments/prod/runtime-token", "", http.StatusCreated, &tok)
	w.token = tok.RuntimeToken
	return w
}

func (w *recordingWorld) call(t testing.TB, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:1234"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, req)
	return rec
}

func (w *recordingWorld) admin(t testing.TB, method, path, body string, want int, out any) *httptest.ResponseRecorder {
	t.Helper()
	rec := w.call(t, method, path, recAdmin, body)
	if rec.Code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, want)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, rec.Body)
		}
	}
	return rec
}

func (w *recordingWorld) trigger(t testing.TB, event string) {
	t.Helper()
	rec := w.call(t, "POST", "/api/v1/environments/prod/triggers/user:tokens_generation", w.token, event)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"succeeded"`) {
		t.Fatalf("trigger: %d %s", rec.Code, rec.Body)
	}
}

// flush waits for the queued recordings to be stored: the recorder's
// close drains its queue (a fresh one takes its place for later calls).
func (w *recordingWorld) flush(t *testing.T) {
	t.Helper()
	if err := w.srv.rec.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.srv.rec = newRecorder(w.svc, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
}

const secretEvent = `{"request":{"ip":"203.0.113.7"},"context":{"auth":{"password":"Tr0ub4dor&3-horse","providedEmail":"ada@example.com"},
 "user":{"id":"kp_1","given_name":"Ada","family_name":"Lovelace","phone":"+44 20 7946 0958","note":"key sk_live_51HxSecretValue"}}}`

func TestTriggerCallsRecordedRedacted(t *testing.T) {
	w := newRecordingWorld(t)
	ctx := context.Background()

	// Off by default: nothing is recorded.
	w.trigger(t, secretEvent)
	w.flush(t)
	if got, _ := w.svc.Recordings(ctx, "prod", "", 10); len(got) != 0 {
		t.Fatalf("recorded %d calls with recording off", len(got))
	}

	// A workflow not listed is not recorded either.
	w.admin(t, "PUT", "/api/v1/environments/prod/recording", `{"enabled": true, "workflows": ["other"], "sampleRate": 1}`, http.StatusOK, nil)
	w.trigger(t, secretEvent)
	w.flush(t)
	if got, _ := w.svc.Recordings(ctx, "prod", "", 10); len(got) != 0 {
		t.Fatalf("recorded %d calls of a workflow not listed", len(got))
	}

	var view recordingView
	w.admin(t, "PUT", "/api/v1/environments/prod/recording", `{"enabled": true, "workflows": ["addClaims"], "sampleRate": 1}`, http.StatusOK, &view)
	if !view.Enabled || view.MaxPerWorkflow != recording.DefaultMaxPerWorkflow || view.PII.Emails != recording.HashLocal {
		t.Fatalf("settings after PUT = %+v", view)
	}
	w.trigger(t, secretEvent)
	w.trigger(t, secretEvent)
	w.flush(t)
	got, err := w.svc.Recordings(ctx, "prod", "addClaims", 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("recordings = %d, %v", len(got), err)
	}
	ev := string(got[0].Event)
	t.Logf("recorded event: %s", ev)
	for _, never := range []string{"Tr0ub4dor", "sk_live_51HxSecretValue", "ada@", "203.0.113.7", "Lovelace", "Ada", "7946"} {
		if strings.Contains(ev, never) {
			t.Errorf("recorded event holds %q: %s", never, ev)
		}
	}
	for _, kept := range []string{`"kp_1"`, "@example.com", `"password":"***"`} {
		if !strings.Contains(ev, kept) {
			t.Errorf("recorded event lacks %s: %s", kept, ev)
		}
	}
	// Hashes are stable within the environment: both calls hash alike.
	if !bytes.Equal(got[0].Event, got[1].Event) || got[0].Trigger != "user:tokens_generation" || got[0].WorkflowID != "addClaims" {
		t.Fatalf("two recordings of one event differ: %s / %s", got[0].Event, got[1].Event)
	}

	// The counts are in the settings view.
	w.admin(t, "GET", "/api/v1/environments/prod/recording", "", http.StatusOK, &view)
	if view.Recorded["addClaims"] != 2 {
		t.Fatalf("recorded counts = %v", view.Recorded)
	}

	// Export: JSON Lines of replay.Recorded, for the admin only.
	if rec := w.call(t, "GET", "/api/v1/environments/prod/recordings/export?workflow=addClaims", "", ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("export without a token: %d", rec.Code)
	}
	if rec := w.call(t, "GET", "/api/v1/environments/prod/recordings/export", w.token, ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("export with the runtime token: %d", rec.Code)
	}
	if rec := w.call(t, "GET", "/api/v1/environments/prod/recordings/export?workflow=a%20b", recAdmin, ""); rec.Code != http.StatusBadRequest {
		t.Fatalf("export of a bad workflow id: %d", rec.Code)
	}
	rec := w.admin(t, "GET", "/api/v1/environments/prod/recordings/export?workflow=addClaims", "", http.StatusOK, nil)
	if ct := rec.Header().Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("export content type %q", ct)
	}
	export := rec.Body.Bytes()
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(export))
	for sc.Scan() {
		var r replay.Recorded
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.WorkflowID != "addClaims" || len(r.Event) == 0 {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != 2 {
		t.Fatalf("export has %d lines, want 2", lines)
	}
	// The export is what `flowgate test --replay DIR` reads.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prod.jsonl"), export, 0o600); err != nil {
		t.Fatal(err)
	}
	if read, err := replay.ReadDir(dir); err != nil || len(read) != 2 {
		t.Fatalf("replay reads %d of the export: %v", len(read), err)
	}
	if rec := w.admin(t, "GET", "/api/v1/environments/prod/recordings/export?workflow=nothing", "", http.StatusOK, nil); rec.Body.Len() != 0 {
		t.Fatalf("empty export: %q", rec.Body)
	}

	// At rest nothing is in the clear.
	rows, err := w.db.Recordings(ctx, "prod", "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, plain := range []string{"Tr0ub4dor", "sk_live_51HxSecretValue", "ada@example.com", "kp_1"} {
			if bytes.Contains(r.Sealed, []byte(plain)) {
				t.Fatalf("raw row holds %q", plain)
			}
		}
	}

	// Out-of-range settings are refused and change nothing.
	for _, body := range []string{`{"sampleRate": 1.5}`, `{"sampleRate": -1}`, `{"sampleRate": 0.5, "maxPerWorkflow": 1000000}`,
		`{"retentionDays": 3650}`, `{"pii": {"emails": "keep-forever"}}`, `{"sampleRate": "1"}`, `{"enabled": true, "extra": 1}`} {
		w.admin(t, "PUT", "/api/v1/environments/prod/recording", body, http.StatusBadRequest, nil)
	}
	w.admin(t, "GET", "/api/v1/environments/prod/recording", "", http.StatusOK, &view)
	if !view.Enabled || view.SampleRate != 1 {
		t.Fatalf("a refused PUT changed the settings: %+v", view)
	}

	// Delete-all.
	var del struct{ Deleted int64 }
	w.admin(t, "DELETE", "/api/v1/environments/prod/recordings", "", http.StatusOK, &del)
	if del.Deleted != 2 {
		t.Fatalf("deleted %d", del.Deleted)
	}
	if got, _ := w.svc.Recordings(ctx, "prod", "", 10); len(got) != 0 {
		t.Fatalf("%d left after delete-all", len(got))
	}
}

// TestHugeEventNotRecorded: an event past the recording bound is served
// as usual and dropped from recording, counted.
func TestHugeEventNotRecorded(t *testing.T) {
	w := newRecordingWorld(t)
	w.admin(t, "PUT", "/api/v1/environments/prod/recording", `{"enabled": true, "workflows": ["addClaims"], "sampleRate": 1}`, http.StatusOK, nil)
	dropped := w.srv.rec.dropped
	big := `{"context":{"user":{"id":"kp_1"}},"pad":"` + strings.Repeat("x", recording.MaxEventBytes) + `"}`
	w.trigger(t, big)
	w.flush(t)
	if got, _ := w.svc.Recordings(context.Background(), "prod", "", 10); len(got) != 0 {
		t.Fatal("an oversized event was recorded")
	}
	if n := testutil.ToFloat64(dropped.WithLabelValues("too_large")); n != 1 {
		t.Fatalf("too_large drops = %v", n)
	}
}

// blockingStore holds the writer in its first AddRecording until released.
type blockingStore struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) AddRecording(ctx context.Context, env string, rec replay.Recorded, keep int) (int64, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	return 0, nil
}

func (b *blockingStore) PruneRecordings(ctx context.Context) (int64, error) { return 0, nil }

// TestRecorderNeverBlocks: while the store is stuck, calls past the queue
// are dropped and counted at once; the trigger path never waits.
func TestRecorderNeverBlocks(t *testing.T) {
	bs := &blockingStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := newRecorder(bs, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := &deploy.RecordingState{Settings: recording.Settings{}.Defaults(), Key: make([]byte, 32)}
	resp := sandbox.Response{Result: newSucceeded("addClaims")}
	r.add("prod", st, invokeRequest(`{"a":1}`), resp)
	<-bs.entered // the writer holds the first call
	const extra = 7
	for range recordBuffer + extra {
		r.add("prod", st, invokeRequest(`{"a":1}`), resp)
	}
	if n := testutil.ToFloat64(r.dropped.WithLabelValues("queue_full")); n != extra {
		t.Fatalf("queue_full drops = %v, want %d", n, extra)
	}
	close(bs.release)
	if err := r.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(r.recorded); n != recordBuffer+1 {
		t.Fatalf("recorded = %v, want %d", n, recordBuffer+1)
	}
}

// TestPreviewNotRecorded: sample never records a preview or a call with
// nothing live.
func TestPreviewNotRecorded(t *testing.T) {
	w := newRecordingWorld(t)
	w.admin(t, "PUT", "/api/v1/environments/prod/recording", `{"enabled": true, "workflows": ["addClaims"], "sampleRate": 1}`, http.StatusOK, nil)
	snap, err := w.svc.Snapshot(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	live := snap.Live("user:tokens_generation")
	if w.srv.rec.sample(snap, live, false) == nil {
		t.Fatal("a live call with sample rate 1 was not sampled")
	}
	if w.srv.rec.sample(snap, live, true) != nil || w.srv.rec.sample(snap, nil, false) != nil {
		t.Fatal("a preview, or a call with nothing live, was sampled")
	}
	w.srv.rec.draw = func() float64 { return 0.9999 }
	w.admin(t, "PUT", "/api/v1/environments/prod/recording", `{"enabled": true, "workflows": ["addClaims"], "sampleRate": 0.5}`, http.StatusOK, nil)
	snap, _ = w.svc.Snapshot(context.Background(), "prod")
	if w.srv.rec.sample(snap, live, false) != nil {
		t.Fatal("a draw above the sample rate was sampled")
	}
}

func newSucceeded(id string) *workflow.Result {
	return &workflow.Result{WorkflowID: id, Status: workflow.StatusSucceeded}
}

func invokeRequest(event string) invoke.Request {
	return invoke.Request{Trigger: "user:tokens_generation", Event: []byte(event)}
}

// TestRecordedFetchRedacted: a workflow's outbound answers are recorded
// through the real capture, with the secret it put in the URL query and
// the one the service echoed in the body removed, and the email hashed
// as in the event.
func TestRecordedFetchRedacted(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "s=sk_live_51HxSecretValue")
		io.WriteString(w, `{"echo":"`+r.URL.Query().Get("key")+`","user":"`+r.URL.Query().Get("email")+`","plan":"pro"}`)
	}))
	defer upstream.Close()
	host := strings.TrimPrefix(upstream.URL, "http://")
	w := newRecordingWorldWith(t, `
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: { "kinde.env": {}, "kinde.fetch": {} } };
export default async function handle(event: any) {
  const k = kinde.env.get("API_KEY").value;
  const res = await kinde.fetch("http://`+host+`/lookup?key=" + encodeURIComponent(k) + "&email=" + encodeURIComponent(event.context.auth.providedEmail));
  return { plan: res.json.plan };
}
`, host)
	w.admin(t, "PUT", "/api/v1/environments/prod/recording", `{"enabled": true, "workflows": ["addClaims"], "sampleRate": 1}`, http.StatusOK, nil)
	w.trigger(t, secretEvent)
	w.flush(t)
	got, err := w.svc.Recordings(context.Background(), "prod", "addClaims", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("recordings = %d, %v", len(got), err)
	}
	if len(got[0].Fetch) != 1 {
		t.Fatalf("fetch = %+v", got[0].Fetch)
	}
	f := got[0].Fetch[0]
	all := f.URL + "\n" + f.Body + "\n" + string(got[0].Event)
	for k, v := range f.Headers {
		all += "\n" + k + ": " + v
	}
	t.Logf("recorded: %s", all)
	for _, never := range []string{"sk_live_51HxSecretValue", "sk_live_51HxSecretValue"[:12], "ada@", "ada%40", "Set-Cookie", "Tr0ub4dor"} {
		if strings.Contains(all, never) {
			t.Errorf("recording holds %q", never)
		}
	}
	var ev struct {
		Context struct {
			Auth struct{ ProvidedEmail string }
		}
	}
	json.Unmarshal(got[0].Event, &ev)
	if f.Status != 200 || !strings.Contains(f.Body, `"plan":"pro"`) || !strings.Contains(f.URL, url.QueryEscape(ev.Context.Auth.ProvidedEmail)) {
		t.Fatalf("recorded answer = %+v (event email %s)", f, ev.Context.Auth.ProvidedEmail)
	}
}

// BenchmarkTriggerRecording: a trigger call with recording off, and with
// every call sampled (the queue, redaction and storage run beside it).
func BenchmarkTriggerRecording(b *testing.B) {
	for _, mode := range []struct{ name, settings string }{
		{"off", `{"enabled": false}`},
		{"every-call", `{"enabled": true, "workflows": ["addClaims"], "sampleRate": 1}`},
	} {
		b.Run(mode.name, func(b *testing.B) {
			w := newRecordingWorld(b)
			w.admin(b, "PUT", "/api/v1/environments/prod/recording", mode.settings, http.StatusOK, nil)
			w.trigger(b, secretEvent)
			b.ResetTimer()
			for b.Loop() {
				w.trigger(b, secretEvent)
			}
		})
	}
}

type failingStore struct{}

func (failingStore) AddRecording(context.Context, string, replay.Recorded, int) (int64, error) {
	return 0, errors.New("injected: database is away")
}

func (failingStore) PruneRecordings(context.Context) (int64, error) {
	return 0, errors.New("injected: database is away")
}

// TestRecorderStoreFailureCounted: a database that refuses writes costs
// the recording, counted, and nothing else.
func TestRecorderStoreFailureCounted(t *testing.T) {
	r := newRecorder(failingStore{}, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := &deploy.RecordingState{Settings: recording.Settings{}.Defaults(), Key: make([]byte, 32)}
	r.add("prod", st, invokeRequest(`{"a":1}`), sandbox.Response{Result: newSucceeded("addClaims")})
	r.add("prod", st, invokeRequest(`{"a":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`), sandbox.Response{Result: newSucceeded("addClaims")})
	if err := r.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, u, ok := testutil.ToFloat64(r.dropped.WithLabelValues("store")), testutil.ToFloat64(r.dropped.WithLabelValues("unrecordable")),
		testutil.ToFloat64(r.recorded); s != 1 || u != 1 || ok != 0 {
		t.Fatalf("store drops %v, unrecordable %v, recorded %v", s, u, ok)
	}
}
