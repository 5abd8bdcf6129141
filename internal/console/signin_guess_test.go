package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestSignInGuessingFromOneIPv6Network: failed sign-ins are counted per
// IPv6 /64, not per address, so a host cannot hop through its /64 (2^64
// addresses) for a fresh budget of guesses at the admin token.
func TestSignInGuessingFromOneIPv6Network(t *testing.T) {
	h := newHarness(t)
	try := func(remote, token string) int {
		pre := randomID()
		form := url.Values{"_csrf": {h.con.csrfFor("signin", pre)}, "token": {token}, "next": {Prefix}}
		req := httptest.NewRequest(http.MethodPost, Prefix+"signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: preCookie, Value: pre})
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.con.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range signInFailures.MaxFailures {
		if code := try(fmt.Sprintf("[2001:db8:7:7::%x]:443", i+1), "guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := try("[2001:db8:7:7:abcd::1]:443", adminToken); code != http.StatusTooManyRequests {
		t.Fatalf("the right token from a fresh address of the same /64: %d, want 429", code)
	}
	if code := try("[2001:db8:7:8::1]:443", adminToken); code != http.StatusSeeOther {
		t.Fatalf("another /64: %d, want a sign-in", code)
	}
}

// TestSafeNextRefusesControlCharacters: a tab or line break in "next" is
// dropped by browsers, so "/console/../\t/evil" would be followed as a
// different path from the one checked.
func TestSafeNextRefusesControlCharacters(t *testing.T) {
	for _, next := range []string{"/console/../\t/evil.example", "/console/\x0b/x", "/console/\r\nSet-Cookie: a=b", "/console/\x7f"} {
		if got := safeNext(next); got != Prefix {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
}
