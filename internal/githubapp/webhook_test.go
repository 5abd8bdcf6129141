package githubapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// memQueue records deliveries by id, as the River-backed queue does.
type memQueue struct {
	mu   sync.Mutex
	seen map[string]Delivery
	fail error
}

func (q *memQueue) EnqueueDelivery(_ context.Context, d Delivery) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return false, q.fail
	}
	if _, ok := q.seen[d.ID]; ok {
		return true, nil
	}
	q.seen[d.ID] = d
	return false, nil
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	secret := []byte("It's a Secret to Everybody")
	push := githubtest.Example(t, "push", "")
	cases := []struct {
		name       string
		method     string
		event, id  string
		body       string
		signature  string // empty: signed correctly
		queueErr   error
		wantStatus int
		wantQueued bool
	}{
		{name: "push queued", event: "push", id: "d-1", body: string(push), wantStatus: 202, wantQueued: true},
		{name: "forged signature", event: "push", id: "d-2", body: string(push), signature: githubtest.Sign([]byte("wrong"), push), wantStatus: 401},
		{name: "no signature", event: "push", id: "d-3", body: string(push), signature: "-", wantStatus: 401},
		{name: "sha1 only", event: "push", id: "d-4", body: string(push), signature: "sha1=abcdef", wantStatus: 401},
		{name: "body changed after signing", event: "push", id: "d-5", body: string(push) + " ", signature: githubtest.Sign(secret, push), wantStatus: 401},
		{name: "unhandled event", event: "star", id: "d-6", body: `{"action":"created"}`, wantStatus: 202},
		{name: "missing delivery id", event: "push", id: "", body: string(push), wantStatus: 400},
		{name: "hostile delivery id", event: "push", id: "../../x", body: string(push), wantStatus: 400},
		{name: "not json", event: "push", id: "d-7", body: "{", wantStatus: 400},
		{name: "GET", method: "GET", event: "push", id: "d-8", body: "", wantStatus: 405},
		{name: "queue down", event: "push", id: "d-9", body: string(push), queueErr: errors.New("database is locked"), wantStatus: 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &memQueue{seen: map[string]Delivery{}, fail: c.queueErr}
			h, err := NewWebhookHandler(secret, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			method := c.method
			if method == "" {
				method = "POST"
			}
			req := httptest.NewRequest(method, "/webhooks/github", strings.NewReader(c.body))
			req.Header.Set("X-GitHub-Event", c.event)
			req.Header.Set("X-GitHub-Delivery", c.id)
			switch c.signature {
			case "":
				req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, []byte(c.body)))
			case "-":
			default:
				req.Header.Set("X-Hub-Signature-256", c.signature)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, c.wantStatus, rec.Body)
			}
			if got := len(q.seen) == 1; got != c.wantQueued {
				t.Fatalf("queued = %v, want %v", got, c.wantQueued)
			}
			if strings.Contains(rec.Body.String(), string(secret)) {
				t.Fatal("the response shows the secret")
			}
		})
	}
}

func TestWebhookReplayRunsOnce(t *testing.T) {
	t.Parallel()
	secret := []byte("s3cret")
	q := &memQueue{seen: map[string]Delivery{}}
	h, _ := NewWebhookHandler(secret, q, nil)
	body := githubtest.Example(t, "issue_comment", "created")
	send := func() int {
		req := httptest.NewRequest("POST", "/webhooks/github", strings.NewReader(string(body)))
		req.Header.Set("X-GitHub-Event", "issue_comment")
		req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := send(); got != http.StatusAccepted {
		t.Fatalf("first delivery: %d", got)
	}
	if got := send(); got != http.StatusOK {
		t.Fatalf("replayed delivery: %d, want 200 duplicate", got)
	}
	if len(q.seen) != 1 {
		t.Fatalf("%d deliveries queued", len(q.seen))
	}
}

func TestWebhookRefusesEmptySecret(t *testing.T) {
	t.Parallel()
	if _, err := NewWebhookHandler(nil, &memQueue{}, nil); err == nil {
		t.Fatal("a handler without a secret was built")
	}
}

func TestWebhookPayloadTooLarge(t *testing.T) {
	t.Parallel()
	for _, declared := range []bool{true, false} {
		h, _ := NewWebhookHandler([]byte("s"), &memQueue{seen: map[string]Delivery{}}, nil)
		body := &countingReader{r: strings.NewReader(strings.Repeat(" ", MaxPayloadBytes+1))}
		req := httptest.NewRequest("POST", "/webhooks/github", body)
		req.ContentLength = -1
		if declared {
			req.ContentLength = MaxPayloadBytes + 1
		}
		signed(req, "push", "d-big", githubtest.Sign([]byte("s"), nil))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("declared=%v: status = %d", declared, rec.Code)
		}
		if declared && body.n.Load() != 0 {
			t.Fatalf("read %d bytes of a body declared too large", body.n.Load())
		}
	}
}

// countingReader counts what the handler reads and can hold a read until
// released (block non-nil), saying when it is first asked (started).
type countingReader struct {
	r       io.Reader
	n       atomic.Int64
	started chan struct{}
	block   chan struct{}
	once    sync.Once
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.started != nil {
		c.once.Do(func() { close(c.started) })
	}
	if c.block != nil {
		<-c.block
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func signed(req *http.Request, event, id, sig string) {
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
}

// A post without a well-formed signature header, or without the delivery
// and event headers, or for an event Flowgate ignores, is answered before
// a byte of its body is read: unsigned posts cannot make the service
// buffer 25 MB each.
func TestWebhookChecksHeadersBeforeReadingTheBody(t *testing.T) {
	t.Parallel()
	good := githubtest.Sign([]byte("s"), []byte("{}"))
	cases := []struct {
		name, event, id, sig string
		want                 int
	}{
		{"no signature", "push", "d-1", "", http.StatusUnauthorized},
		{"sha1 signature", "push", "d-1", "sha1=" + strings.Repeat("ab", 20), http.StatusUnauthorized},
		{"short signature", "push", "d-1", "sha256=abcd", http.StatusUnauthorized},
		{"not hex", "push", "d-1", "sha256=" + strings.Repeat("zz", 32), http.StatusUnauthorized},
		{"no event", "", "d-1", good, http.StatusBadRequest},
		{"no delivery id", "push", "", good, http.StatusBadRequest},
		{"ignored event", "star", "d-1", good, http.StatusAccepted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &memQueue{seen: map[string]Delivery{}}
			h, _ := NewWebhookHandler([]byte("s"), q, nil)
			body := &countingReader{r: strings.NewReader(strings.Repeat(" ", 1<<20))}
			req := httptest.NewRequest("POST", "/webhooks/github", body)
			signed(req, c.event, c.id, c.sig)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status = %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if n := body.n.Load(); n != 0 {
				t.Fatalf("read %d bytes of the body before refusing it", n)
			}
			if len(q.seen) != 0 {
				t.Fatal("queued")
			}
		})
	}
}

// Bodies are read DefaultBodyReads at a time: with every slot held by a
// slow sender, another post waits without reading and gives up with 503
// when its client goes away; once a slot frees, posts go through again.
func TestWebhookBoundsConcurrentBodyReads(t *testing.T) {
	t.Parallel()
	secret := []byte("s")
	payload := githubtest.Example(t, "push", "")
	q := &memQueue{seen: map[string]Delivery{}}
	h, _ := NewWebhookHandler(secret, q, nil)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range DefaultBodyReads {
		body := &countingReader{r: strings.NewReader(string(payload)), started: make(chan struct{}), block: release}
		req := httptest.NewRequest("POST", "/webhooks/github", body)
		signed(req, "push", fmt.Sprintf("slow-%d", i), githubtest.Sign(secret, payload))
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
		<-body.started // this post holds a slot
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	waiting := &countingReader{r: strings.NewReader(string(payload))}
	req := httptest.NewRequestWithContext(ctx, "POST", "/webhooks/github", waiting)
	signed(req, "push", "waiting", githubtest.Sign(secret, payload))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || waiting.n.Load() != 0 {
		t.Fatalf("with every slot taken: status %d, %d bytes read", rec.Code, waiting.n.Load())
	}
	close(release)
	wg.Wait()
	req = httptest.NewRequest("POST", "/webhooks/github", strings.NewReader(string(payload)))
	signed(req, "push", "after", githubtest.Sign(secret, payload))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || len(q.seen) != DefaultBodyReads+1 {
		t.Fatalf("after the slow posts: status %d, %d queued", rec.Code, len(q.seen))
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("body"), "sha256=00")
	f.Add([]byte(""), githubtest.Sign([]byte("k"), nil))
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := VerifySignature([]byte("k"), body, header)
		if err == nil && header != githubtest.Sign([]byte("k"), body) && !strings.EqualFold(header, githubtest.Sign([]byte("k"), body)) {
			t.Fatalf("accepted a signature that is not the body's: %q", header)
		}
	})
}
