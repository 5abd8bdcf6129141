package e2e

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
)

// wire is one request as a local server received it.
type wire struct {
	Method, Path, Query, Body string
	Header                    http.Header
}

// recorder is a local server that records requests and answers from a
// handler per path.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []wire
}

func newRecorder(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.seen = append(rec.seen, wire{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.Header.Clone()})
		rec.mu.Unlock()
		handle(w, r, body)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) host() string { return rec.srv.Listener.Addr().String() }

func (rec *recorder) requests() []wire {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]wire(nil), rec.seen...)
}

// TestFetchHelperJSONAndText: the library's fetch with the default JSON
// format and with responseFormat "text", against a local server reachable
// only because AllowHosts names it.
func TestFetchHelperJSONAndText(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Path {
		case "/score":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"risk": 80}`)
		case "/banner":
			io.WriteString(w, "hi there")
		default:
			http.NotFound(w, r)
		}
	})
	r := checkRepo(t, "fetch")
	event := fmt.Sprintf(`{"request": {"ip": "203.0.113.7"}, "context": {"serviceUrl": %q, "workflow": {"trigger": "user:pre_registration"}}}`, rec.srv.URL)

	blocked := r.run(t, "fetcher", event, nil)
	if blocked.Status != "failed" || !strings.Contains(blocked.Error.Message, "is blocked") {
		t.Fatalf("without AllowHosts the loopback server must be refused: %+v", blocked.Error)
	}
	if n := len(rec.requests()); n != 0 {
		t.Fatalf("server saw %d requests from the refused run", n)
	}

	res := r.run(t, "fetcher", event, &bindings.Config{Net: &bindings.NetPolicy{AllowHosts: []string{rec.host()}}})
	mustSucceed(t, res)
	if res.Auth == nil || !res.Auth.Denied || res.Auth.Reason != "risk 80 is too high" {
		t.Errorf("auth = %+v", res.Auth)
	}
	if got := logLines(res); got != "info: score 80, banner hi there\n" {
		t.Errorf("logs %q", got)
	}
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests: %+v", len(reqs), reqs)
	}
	get, post := reqs[0], reqs[1]
	if get.Method != "GET" || get.Path != "/score" || get.Query != "ip=203.0.113.7" || get.Body != "" ||
		get.Header.Get("Accept") != "application/json" || get.Header.Get("X-Api-Key") != "k-123" {
		t.Errorf("GET request = %+v", get)
	}
	if post.Method != "POST" || post.Path != "/banner" || post.Body != `{"ip":"203.0.113.7"}` ||
		post.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST request = %+v", post)
	}
}

// TestSecureFetchHelper: the server decrypts Base64(nonce‖tag‖ciphertext)
// with the workflow's key and finds the JSON body; the password the
// workflow logs is redacted.
func TestSecureFetchHelper(t *testing.T) {
	key := []byte("an example 32-byte AES-256 key!!")
	var plain string
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		raw, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil || len(raw) < 12+16 {
			http.Error(w, "body is not Base64 of nonce‖tag‖ciphertext", 400)
			return
		}
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		nonce, tag, ct := raw[:12], raw[12:28], raw[28:]
		p, err := gcm.Open(nil, nonce, append(append([]byte{}, ct...), tag...), nil)
		if err != nil {
			http.Error(w, "cannot decrypt", 400)
			return
		}
		plain = string(p)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"migrated": true}`)
	})
	r := checkRepo(t, "fetch")
	event := fmt.Sprintf(`{"context": {"serviceUrl": %q, "auth": {"providedEmail": "a@example.com", "password": "pw-Secret-1", "hasUserRecordInKinde": false},
		"workflow": {"trigger": "user:existing_password_provided"}}}`, rec.srv.URL)
	res := r.run(t, "secure", event, &bindings.Config{
		EncryptionKey: key,
		Net:           &bindings.NetPolicy{AllowHosts: []string{rec.host()}},
		Redact:        []string{"pw-Secret-1"},
	})
	mustSucceed(t, res)
	if plain != `{"email":"a@example.com","password":"pw-Secret-1"}` {
		t.Errorf("server decrypted %q", plain)
	}
	if got := logLines(res); got != "info: migrated true with ***\n" {
		t.Errorf("logs %q", got)
	}
	reqs := rec.requests()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/migrate" {
		t.Errorf("requests %+v", reqs)
	}
}
