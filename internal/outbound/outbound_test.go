package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/netguard"
)

// TestClientsBounded: one client per allow-list, at most max of them, the
// least recently used dropped first; Close empties the owner and later
// clients keep no idle connections.
func TestClientsBounded(t *testing.T) {
	cs := NewClients(2)
	a := cs.client(&Policy{AllowHosts: []string{"a"}})
	if again := cs.client(&Policy{AllowHosts: []string{"a"}}); again != a {
		t.Error("same allow-list, different client")
	}
	b := cs.client(&Policy{AllowHosts: []string{"b"}})
	cs.client(&Policy{AllowHosts: []string{"a"}}) // a is now the most recent
	for i := range 50 {
		cs.client(&Policy{AllowHosts: []string{fmt.Sprint("h", i)}})
		if n := cs.Len(); n > 2 {
			t.Fatalf("%d clients kept, max 2", n)
		}
	}
	if c := cs.client(&Policy{AllowHosts: []string{"b"}}); c == b {
		t.Error("evicted client handed out again")
	}
	cs.Close()
	if cs.Len() != 0 {
		t.Errorf("%d clients after Close", cs.Len())
	}
	c := cs.client(nil)
	if tr := c.Transport.(*http.Transport); !tr.DisableKeepAlives {
		t.Error("a client after Close keeps connections")
	}
	if cs.Len() != 0 {
		t.Error("a client after Close was kept")
	}
	var none *Clients
	if tr := none.client(nil).Transport.(*http.Transport); !tr.DisableKeepAlives {
		t.Error("nil owner: client keeps connections")
	}
}

// TestSessionCountsAndBounds: every request counts against the cap, the
// size limit holds, and refusals are told apart from failures by type.
func TestSessionCountsAndBounds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(make([]byte, 2048))
		case "/redirect-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		default:
			fmt.Fprint(w, "ok "+r.Header.Get("User-Agent"))
		}
	}))
	defer srv.Close()
	host := srv.Listener.Addr().String()
	cs := NewClients(0)
	defer cs.Close()
	s := NewSession(context.Background(), &Policy{AllowHosts: []string{host}, MaxRequests: 3, MaxResponseBytes: 1024}, cs)
	r, err := s.Do(Request{Method: "GET", URL: srv.URL + "/"})
	if err != nil || string(r.Body) != "ok flowgate-workflows" || r.Status != 200 || r.StatusText != "OK" {
		t.Fatalf("Do: %+v, %v", r, err)
	}
	_, err = s.Do(Request{Method: "GET", URL: srv.URL + "/big"})
	var large *TooLargeError
	if !errors.As(err, &large) || !IsPolicy(err) {
		t.Errorf("big body: %v", err)
	}
	_, err = s.Do(Request{Method: "GET", URL: srv.URL + "/redirect-file"})
	var redirect *RedirectRefusedError
	if !errors.As(err, &redirect) || !IsPolicy(err) || !strings.Contains(s.Describe(host, err), `redirect to a "file" URL refused`) {
		t.Errorf("redirect to file: %v", err)
	}
	_, err = s.Do(Request{Method: "GET", URL: srv.URL + "/"})
	var many *TooManyRequestsError
	if !errors.As(err, &many) || many.Limit != 3 || !IsPolicy(err) {
		t.Errorf("fourth request: %v", err)
	}
	if s.Requests() != 4 {
		t.Errorf("counted %d requests", s.Requests())
	}

	guarded := NewSession(context.Background(), nil, cs)
	_, err = guarded.Do(Request{Method: "GET", URL: srv.URL + "/"})
	var blocked *netguard.BlockedError
	if !errors.As(err, &blocked) || !IsPolicy(err) {
		t.Errorf("loopback without allow-list: %v", err)
	}
	refused := NewSession(context.Background(), &Policy{AllowHosts: []string{"127.0.0.1:1"}}, cs)
	_, err = refused.Do(Request{Method: "GET", URL: "http://127.0.0.1:1/"})
	if err == nil || IsPolicy(err) || !strings.HasPrefix(refused.Describe("127.0.0.1:1", err), "request to 127.0.0.1:1 failed: ") {
		t.Errorf("connection refused: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ended := NewSession(ctx, &Policy{AllowHosts: []string{host}}, cs)
	_, err = ended.Do(Request{Method: "GET", URL: srv.URL + "/"})
	if msg := ended.Describe(host, err); !strings.Contains(msg, "cancelled: the run has ended") {
		t.Errorf("ended run: %s", msg)
	}
}

// TestRequestBodyBounded: a body over MaxRequestBytes is refused before
// anything is sent, and counts as a request.
func TestRequestBodyBounded(t *testing.T) {
	sent := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent++ }))
	defer srv.Close()
	s := NewSession(context.Background(), &Policy{AllowHosts: []string{srv.Listener.Addr().String()}, MaxRequestBytes: 10}, nil)
	_, err := s.Do(Request{Method: "POST", URL: srv.URL + "/", Body: make([]byte, 11)})
	var large *TooLargeError
	if !errors.As(err, &large) || !large.Request || !IsPolicy(err) || sent != 0 || s.Requests() != 1 {
		t.Errorf("err %v, sent %d, counted %d", err, sent, s.Requests())
	}
	if _, err := s.Do(Request{Method: "POST", URL: srv.URL + "/", Body: make([]byte, 10)}); err != nil || sent != 1 {
		t.Errorf("body at the limit: %v, sent %d", err, sent)
	}
}
