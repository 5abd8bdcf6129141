package bindings

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/workflow"
)

// echoServer answers /echo with what it received and other paths as asked.
func echoServer(t *testing.T) (*httptest.Server, *Config) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Seen", "yes")
		json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "contentType": r.Header.Get("Content-Type"), "body": string(body),
			"auth": r.Header.Get("Authorization"), "accept": r.Header.Get("Accept"),
		})
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "plain words") })
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/status/"), "%d", &code)
		w.WriteHeader(code)
		fmt.Fprint(w, `{"error":"nope"}`)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := &Config{
		Settings: declare(workflow.PostAuthentication, workflow.BindFetch, workflow.BindSecureFetch),
		Net:      &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}},
	}
	return srv, cfg
}

func TestFetchBodyEncodings(t *testing.T) {
	srv, cfg := echoServer(t)
	tests := []struct {
		name, opts string
		want       string // JSON of {method, contentType, body}
	}{
		{"no options is GET without body", `undefined`,
			`{"method":"GET","contentType":"","body":""}`},
		{"URLSearchParams is a form", `{method: "POST", body: new URLSearchParams({a: "1 2", b: "x+y"})}`,
			`{"method":"POST","contentType":"application/x-www-form-urlencoded;charset=UTF-8","body":"a=1+2&b=x%2By"}`},
		{"plain object is JSON", `{method: "post", body: {z: 1, a: [true]}}`,
			`{"method":"POST","contentType":"application/json","body":"{\"z\":1,\"a\":[true]}"}`},
		{"string is raw", `{method: "PUT", body: "a=b", headers: {"Content-type": "application/x-www-form-urlencoded"}}`,
			`{"method":"PUT","contentType":"application/x-www-form-urlencoded","body":"a=b"}`},
		{"given content type kept for JSON", `{method: "PATCH", headers: {"content-type": "application/merge-patch+json"}, body: {a: 1}}`,
			`{"method":"PATCH","contentType":"application/merge-patch+json","body":"{\"a\":1}"}`},
		{"undefined body is none", `{method: "DELETE", body: undefined}`,
			`{"method":"DELETE","contentType":"","body":""}`},
		{"string body on GET is sent (createKindeAPI does this)", `{method: "GET", body: new URLSearchParams({q: "1"}).toString()}`,
			`{"method":"GET","contentType":"text/plain;charset=UTF-8","body":"q=1"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, cfg)
			got := s.mustRun(t, `const r = kinde.fetch("`+srv.URL+`/echo", `+tc.opts+`);
				JSON.stringify({method: r.json.method, contentType: r.json.contentType, body: r.json.body})`)
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestFetchHeadersAnyCase(t *testing.T) {
	srv, cfg := echoServer(t)
	s := newSandbox(t, cfg)
	got := s.mustRun(t, `const r = kinde.fetch("`+srv.URL+`/echo", {headers: {authorization: "Bearer t", ACCEPT: "application/json"}});
		r.json.auth + "|" + r.json.accept + "|" + r.headers["x-seen"]`)
	if got != "Bearer t|application/json|yes" {
		t.Errorf("got %v", got)
	}
}

func TestFetchResultShape(t *testing.T) {
	srv, cfg := echoServer(t)
	tests := []struct{ name, js, want string }{
		{"json default", `const r = kinde.fetch(U + "/echo"); [r.status, r.ok, typeof r.json, typeof r.text, "then" in r].join()`,
			"200,true,object,string,false"},
		{"text format has no json", `const r = kinde.fetch(U + "/echo", {responseFormat: "text"}); [typeof r.json, r.text.startsWith("{")].join()`,
			"undefined,true"},
		{"non-JSON body keeps text", `const r = kinde.fetch(U + "/text", {responseFormat: "json"}); [typeof r.json, r.text].join()`,
			"undefined,plain words"},
		{"404 does not throw", `const r = kinde.fetch(U + "/status/404"); [r.status, r.ok, r.json.error, r.statusText].join()`,
			"404,false,nope,Not Found"},
		{"500 does not throw", `const r = kinde.fetch(U + "/status/500"); [r.status, r.ok].join()`, "500,false"},
		{"awaitable", `globalThis.p = (async () => (await kinde.fetch(U + "/echo")).json.method)(); "started"`, "started"},
		{"URL object accepted", `kinde.fetch(new URL("/echo", U)).json.method`, "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, cfg)
			s.vm.Set("U", srv.URL)
			if got := s.mustRun(t, tc.js); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if tc.name == "awaitable" { // jobs ran after the script: the promise is settled
				if got := s.mustRun(t, `var out; p.then(v => out = v); out`); got != nil {
					t.Errorf("then ran synchronously: %v", got)
				}
				if got := s.mustRun(t, `out`); got != "GET" {
					t.Errorf("awaited method = %v", got)
				}
			}
		})
	}
}

func TestFetchLimitsAndNetworkErrors(t *testing.T) {
	srv, cfg := echoServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name string
		pol  NetPolicy
		js   string
		want string
	}{
		{"response size cap", NetPolicy{MaxResponseBytes: 1024}, `kinde.fetch(U + "/big")`,
			"Error: kinde.fetch: the response from HOST is larger than the 1024-byte limit"},
		{"request count cap", NetPolicy{MaxRequests: 2}, `kinde.fetch(U + "/echo"); kinde.fetch(U + "/echo"); kinde.fetch(U + "/echo")`,
			"Error: kinde.fetch: too many requests: a workflow may make at most 2 HTTP requests per run"},
		{"timeout", NetPolicy{Timeout: 50 * time.Millisecond}, `kinde.fetch(U + "/hang")`,
			"Error: kinde.fetch: request to HOST timed out after 50ms"},
		{"connection refused", NetPolicy{AllowHosts: []string{strings.TrimPrefix(closedURL, "http://")}}, `kinde.fetch("` + closedURL + `")`,
			"Error: kinde.fetch: request to " + strings.TrimPrefix(closedURL, "http://") + " failed: connection refused"},
		{"too many redirects", NetPolicy{}, `kinde.fetch(U + "/redirect?to=" + encodeURIComponent("/redirect?to=" + encodeURIComponent("/redirect?to=/redirect?to=/redirect?to=/redirect?to=/redirect?to=/echo")))`,
			"Error: kinde.fetch: request to HOST failed: too many redirects"},
	}
	host := srv.Listener.Addr().String()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := tc.pol
			if pol.AllowHosts == nil {
				pol.AllowHosts = cfg.Net.AllowHosts
			}
			c := *cfg
			c.Net = &pol
			s := newSandbox(t, &c)
			s.vm.Set("U", srv.URL)
			_, err := s.run(tc.js)
			if want := strings.ReplaceAll(tc.want, "HOST", host); !strings.HasPrefix(err, want) {
				t.Errorf("error = %q\nwant prefix %q", err, want)
			}
		})
	}
}

func TestFetchSSRFGuard(t *testing.T) {
	srv, _ := echoServer(t)
	host := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(host)
	allowed := &NetPolicy{AllowHosts: []string{host}}
	tests := []struct {
		name string
		pol  *NetPolicy
		url  string
		want string // error prefix; "" means the request succeeds
	}{
		{"loopback refused by default", nil, srv.URL + "/echo",
			"Error: kinde.fetch: host " + host + " is blocked: it resolves to 127.0.0.1, a loopback address; workflows may only reach public addresses (in development, allow it with --allow-host " + host + ")"},
		{"allow-list host:port works", allowed, srv.URL + "/echo", ""},
		{"allow-list host works", &NetPolicy{AllowHosts: []string{"127.0.0.1"}}, srv.URL + "/echo", ""},
		{"allow-list is per port", &NetPolicy{AllowHosts: []string{"127.0.0.1:1"}}, srv.URL + "/echo", "Error: kinde.fetch: host " + host + " is blocked"},
		{"hostname resolving to loopback refused", allowed, "http://localhost:" + port + "/echo",
			"Error: kinde.fetch: host localhost:" + port + " is blocked: it resolves to"},
		{"redirect to another loopback address refused", allowed, srv.URL + "/redirect?to=" + url.QueryEscape("http://127.0.0.2:"+port+"/echo"),
			"Error: kinde.fetch: host 127.0.0.2:" + port + " is blocked: it resolves to 127.0.0.2, a loopback address"},
		{"redirect to cloud metadata refused", allowed, srv.URL + "/redirect?to=" + url.QueryEscape("http://169.254.169.254/latest/meta-data/"),
			"Error: kinde.fetch: host 169.254.169.254:80 is blocked: it resolves to 169.254.169.254, a link-local address (cloud metadata lives here)"},
		{"private address refused", nil, "http://10.0.0.1:9/", "Error: kinde.fetch: host 10.0.0.1:9 is blocked: it resolves to 10.0.0.1, a private address"},
		{"IPv4-mapped IPv6 loopback refused", nil, "http://[::ffff:127.0.0.1]:" + port + "/", "Error: kinde.fetch: host [::ffff:7f00:1]:" + port + " is blocked: it resolves to 127.0.0.1, a loopback address"},
		{"IPv4-compatible IPv6 refused", nil, "http://[::127.0.0.1]:" + port + "/", "Error: kinde.fetch: host [::7f00:1]:" + port + " is blocked"},
		{"IPv4 shorthand is the WHATWG host", nil, "http://0x7f.1:" + port + "/", "Error: kinde.fetch: host 127.0.0.1:" + port + " is blocked: it resolves to 127.0.0.1, a loopback address"},
		{"percent-encoded host is decoded", nil, "http://%31%32%37.0.0.1:" + port + "/", "Error: kinde.fetch: host 127.0.0.1:" + port + " is blocked"},
		{"documentation range refused", nil, "http://192.0.2.1:9/", "Error: kinde.fetch: host 192.0.2.1:9 is blocked: it resolves to 192.0.2.1, a documentation address"},
		{"NAT64 of metadata refused", nil, "http://[64:ff9b::a9fe:a9fe]/", "Error: kinde.fetch: host [64:ff9b::a9fe:a9fe]:80 is blocked"},
		{"file scheme refused", allowed, "file:///etc/passwd", `TypeError: kinde.fetch: URL scheme "file:" is not allowed; only http and https URLs can be fetched`},
		{"ftp scheme refused", allowed, "ftp://example.com/x", `TypeError: kinde.fetch: URL scheme "ftp:" is not allowed`},
		{"redirect to file scheme refused", allowed, srv.URL + "/redirect?to=" + url.QueryEscape("file:///etc/passwd"),
			`Error: kinde.fetch: request to ` + host + ` failed: redirect to a "file" URL refused`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A string and a URL object go through the same WHATWG parser.
			for _, arg := range []string{`"` + tc.url + `"`, `new URL("` + tc.url + `")`} {
				s := newSandbox(t, &Config{Settings: declare(workflow.PostAuthentication, workflow.BindFetch), Net: tc.pol})
				_, err := s.run(`kinde.fetch(` + arg + `).status`)
				if tc.want == "" && err != "" || !strings.HasPrefix(err, tc.want) {
					t.Errorf("kinde.fetch(%s): error = %q\nwant prefix %q", arg, err, tc.want)
				}
			}
		})
	}
}

func TestSecureFetchBodyLayoutDecrypts(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	var got struct{ body, method, contentType string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.body, got.method, got.contentType = string(b), r.Method, r.Header.Get("Content-Type")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()
	for _, tc := range []struct{ body, plain string }{
		{`{password: "hunter22", n: 1}`, `{"password":"hunter22","n":1}`},
		{`"raw string"`, `raw string`},
	} {
		s := newSandbox(t, &Config{Settings: declare(workflow.NewPasswordProvided, workflow.BindSecureFetch),
			EncryptionKey: key, Net: &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}}})
		if r := s.mustRun(t, `kinde.secureFetch("`+srv.URL+`", {body: `+tc.body+`, headers: {"Content-Type": "application/json"}}).json.ok`); r != true {
			t.Fatalf("json.ok = %v", r)
		}
		if got.method != "POST" || got.contentType != "application/json" {
			t.Errorf("method %s, content type %s", got.method, got.contentType)
		}
		// Decode independently of OpenBody: Base64(nonce 12 ‖ tag 16 ‖ ciphertext).
		raw, err := base64.StdEncoding.DecodeString(got.body)
		if err != nil {
			t.Fatalf("body is not standard Base64: %v", err)
		}
		nonce, tag, ct := raw[:12], raw[12:28], raw[28:]
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		plain, err := gcm.Open(nil, nonce, append(append([]byte{}, ct...), tag...), nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if string(plain) != tc.plain {
			t.Errorf("plaintext = %q, want %q", plain, tc.plain)
		}
		if p, err := OpenBody(key, got.body); err != nil || string(p) != tc.plain {
			t.Errorf("OpenBody = %q, %v", p, err)
		}
	}
}

func TestSecureFetchWithoutKeyThrows(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.NewPasswordProvided, workflow.BindSecureFetch)})
	_, err := s.run(`kinde.secureFetch("https://example.com", {body: {a: 1}})`)
	if !strings.HasPrefix(err, "Error: kinde.secureFetch: this workflow has no active encryption key; create one") {
		t.Errorf("error = %q", err)
	}
}
