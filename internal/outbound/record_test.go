package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecorderBounds: a recording is bounded per body, in all and in
// count, whatever the server sends; request bodies are never kept; a
// body that is not valid UTF-8 is kept as valid UTF-8; a response over the
// run's own limit is recorded cut.
func TestRecorderBounds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("b", RecordBodyBytes*3)))
		case "/binary":
			w.Write([]byte{0xff, 0xfe, 'o', 'k'})
		default:
			w.Write([]byte(strings.Repeat("s", RecordBodyBytes-1)))
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	t.Run("count and total", func(t *testing.T) {
		rec := NewRecorder()
		s := NewSession(context.Background(), &Policy{AllowHosts: []string{host}, MaxRequests: RecordEntries + 10, Record: rec}, nil)
		for range RecordEntries + 5 {
			if _, err := s.Do(Request{Method: "POST", URL: srv.URL + "/small", Body: []byte("request secret")}); err != nil {
				t.Fatal(err)
			}
		}
		stubs := rec.Stubs()
		if len(stubs) != RecordEntries || rec.Dropped() != 5 {
			t.Fatalf("%d kept, %d dropped", len(stubs), rec.Dropped())
		}
		total := 0
		for _, st := range stubs {
			total += len(st.Body)
			if strings.Contains(st.Body, "request secret") {
				t.Fatal("a request body was recorded")
			}
		}
		if total > RecordTotalBytes || !stubs[len(stubs)-1].Truncated {
			t.Errorf("%d body bytes kept (limit %d); last truncated=%v", total, RecordTotalBytes, stubs[len(stubs)-1].Truncated)
		}
	})
	t.Run("one large body", func(t *testing.T) {
		rec := NewRecorder()
		s := NewSession(context.Background(), &Policy{AllowHosts: []string{host}, Record: rec}, nil)
		if _, err := s.Do(Request{Method: "GET", URL: srv.URL + "/big"}); err != nil {
			t.Fatal(err)
		}
		st := rec.Stubs()[0]
		if len(st.Body) != RecordBodyBytes || !st.Truncated || st.Status != 200 {
			t.Errorf("body %d bytes, truncated %v, status %d", len(st.Body), st.Truncated, st.Status)
		}
	})
	t.Run("over the run's response limit", func(t *testing.T) {
		rec := NewRecorder()
		s := NewSession(context.Background(), &Policy{AllowHosts: []string{host}, MaxResponseBytes: 100, Record: rec}, nil)
		_, err := s.Do(Request{Method: "GET", URL: srv.URL + "/big"})
		var large *TooLargeError
		if !errors.As(err, &large) {
			t.Fatalf("err = %v", err)
		}
		if st := rec.Stubs()[0]; len(st.Body) != 101 || st.Truncated {
			t.Errorf("recorded %d bytes (what the run read), truncated %v", len(st.Body), st.Truncated)
		}
	})
	t.Run("invalid UTF-8", func(t *testing.T) {
		rec := NewRecorder()
		s := NewSession(context.Background(), &Policy{AllowHosts: []string{host}, Record: rec}, nil)
		if _, err := s.Do(Request{Method: "GET", URL: srv.URL + "/binary"}); err != nil {
			t.Fatal(err)
		}
		if b := rec.Stubs()[0].Body; b != "\uFFFDok" {
			t.Errorf("body %q", b)
		}
	})
	t.Run("refused requests are not recorded", func(t *testing.T) {
		rec := NewRecorder()
		s := NewSession(context.Background(), &Policy{Record: rec}, nil) // loopback not allowed
		if _, err := s.Do(Request{Method: "GET", URL: srv.URL + "/small"}); err == nil {
			t.Fatal("loopback reached")
		}
		if n := len(rec.Stubs()); n != 0 {
			t.Errorf("%d answers recorded for a refused request", n)
		}
	})
}
