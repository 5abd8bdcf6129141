package httpstub

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestTransport(t *testing.T) {
	tr := NewTransport([]Stub{
		{Method: "GET", URL: "https://api.example.com/a", Status: 201, Headers: map[string]string{"content-type": "application/json"}, Body: `{"ok":true}`},
		{Method: "POST", URL: "https://api.example.com/a", Status: 500, Body: "boom"},
	})
	tests := []struct {
		name, method, url string
		status            int
		body, ctype       string
		fails             bool
	}{
		{name: "get matches", method: "GET", url: "https://api.example.com/a", status: 201, body: `{"ok":true}`, ctype: "application/json"},
		{name: "method distinguishes", method: "POST", url: "https://api.example.com/a", status: 500, body: "boom"},
		{name: "query must match exactly", method: "GET", url: "https://api.example.com/a?x=1", fails: true},
		{name: "other host", method: "GET", url: "https://evil.example.com/a", fails: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader("payload"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tr.RoundTrip(req)
			if tc.fails {
				if err == nil {
					t.Fatalf("RoundTrip(%s %s) answered %d, want an error", tc.method, tc.url, resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(body) != tc.body || resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("got %d %q %q, want %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"), tc.status, tc.body, tc.ctype)
			}
		})
	}
	un := tr.Unmatched()
	if len(un) != 2 || !strings.Contains(un[0], "GET https://api.example.com/a?x=1") || !strings.Contains(un[1], "evil.example.com") {
		t.Errorf("Unmatched() = %q", un)
	}
}

func TestUnmatchedBounded(t *testing.T) {
	tr := NewTransport(nil)
	for range maxUnmatched + 50 {
		req, _ := http.NewRequest("GET", "https://x.example/", nil)
		_, _ = tr.RoundTrip(req)
	}
	if n := len(tr.Unmatched()); n != maxUnmatched {
		t.Errorf("remembered %d unmatched requests, want the cap %d", n, maxUnmatched)
	}
}

// TestStubsWithTheSameURLAnswerInTurn: the nth request to a method and
// URL gets the nth stub for them; past the last, the last repeats.
func TestStubsWithTheSameURLAnswerInTurn(t *testing.T) {
	tr := NewTransport([]Stub{
		{Method: "GET", URL: "https://a.example/x", Status: 200, Body: "first"},
		{Method: "GET", URL: "https://a.example/other", Status: 200, Body: "other"},
		{Method: "GET", URL: "https://a.example/x", Status: 503, Body: "second"},
	})
	get := func(u string) string {
		req, _ := http.NewRequest("GET", u, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var got []string
	for _, u := range []string{"https://a.example/x", "https://a.example/other", "https://a.example/x", "https://a.example/x", "https://a.example/other"} {
		got = append(got, get(u))
	}
	if want := "first other second second other"; strings.Join(got, " ") != want {
		t.Errorf("answers %q, want %q", got, want)
	}
}
