package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsOnlyAtItsLiteralPath: /metrics answers only when asked for by
// that exact spelling; escaped spellings the mux would route to it get 404,
// so a load balancer rule on the literal path (deploy/terraform) keeps the
// metrics private.
func TestMetricsOnlyAtItsLiteralPath(t *testing.T) {
	srv := newTestServer(t, "admin")
	cases := []struct {
		path string
		code int
	}{
		{"/metrics", http.StatusOK},
		{"/%6Detrics", http.StatusNotFound},
		{"/%6detrics", http.StatusNotFound},
		{"/%6D%65%74%72%69%63%73", http.StatusNotFound},
		{"/metric%73", http.StatusNotFound},
		{"/metrics?x=1", http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://flowgate.test"+c.path, nil))
			if rec.Code != c.code {
				t.Fatalf("GET %s = %d, want %d", c.path, rec.Code, c.code)
			}
			if served := strings.Contains(rec.Body.String(), "# TYPE"); served != (c.code == http.StatusOK) {
				t.Errorf("GET %s served metrics = %v:\n%.200s", c.path, served, rec.Body.String())
			}
		})
	}
}
