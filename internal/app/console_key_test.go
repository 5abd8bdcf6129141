package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleSessionsDoNotRevealTheAdminToken: anyone holding a console
// session cookie (a GitHub user with read access gets one) must not be
// able to test admin-token guesses offline against its signature, which
// would bypass the sign-in and API limits on guessing. The session key
// must depend on a secret the cookie holder cannot guess (the master key),
// not on the admin token alone.
func TestConsoleSessionsDoNotRevealTheAdminToken(t *testing.T) {
	t.Parallel()
	const token = "guessable"
	r := start(t, Config{DataDir: t.TempDir(), Isolation: "inprocess", AdminToken: token})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(r.URL() + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		page.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page.String())
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page")
	}
	resp, err = c.PostForm(r.URL()+"/console/signin", url.Values{"_csrf": {m[1]}, "token": {token}, "next": {"/console/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session string
	for _, ck := range resp.Cookies() {
		if ck.Name == "flowgate_session" && ck.Value != "" {
			session = ck.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		t.Fatalf("sign-in: %d, session cookie %q", resp.StatusCode, session)
	}
	// The session works.
	resp, err = c.Get(r.URL() + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the session does not open the console: %d", resp.StatusCode)
	}

	// An offline guess: the key as it would be derived from the token alone.
	payload, sig, _ := strings.Cut(session, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	k := hmac.New(sha256.New, []byte(token))
	k.Write([]byte("flowgate console sessions v1"))
	mac := hmac.New(sha256.New, k.Sum(nil))
	mac.Write(raw)
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) == sig {
		t.Fatal("the session cookie's signature confirms a guess of the admin token offline")
	}
}
