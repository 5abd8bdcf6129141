package recording

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
)

// TestRedactPasswordFieldsOfFormEncodedBodies: an auth server answering
// application/x-www-form-urlencoded (as OAuth token endpoints may) puts a
// password or client secret in a form field the recording has never seen
// the value of; the field is replaced as it is in a URL query.
func TestRedactPasswordFieldsOfFormEncodedBodies(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"client secret", "access_token=at_1&client_secret=cs-Unknown-Value-77&scope=openid"},
		{"password", "user=u1&password=pw-Unknown-Value-77"},
		{"encoded key", "user=u1&pass%77ord=pw-Unknown-Value-77"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored := mustRedact(t, Call{Event: []byte(`{}`), Fetch: []httpstub.Stub{{Method: "POST", URL: "https://auth.example.com/token",
				Status: 200, Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: tc.body}}}, PIIRule{})
			if strings.Contains(stored, "Unknown-Value-77") {
				t.Errorf("a password field of a form body is stored: %s", stored)
			}
		})
	}
}

// TestRedactPasswordFieldsInsideJSONStrings: JSON carried as a string
// (a double-encoded body, an event field holding JSON text) is JSON a
// workflow or a service produced: its password fields go too.
func TestRedactPasswordFieldsInsideJSONStrings(t *testing.T) {
	stored := mustRedact(t, Call{
		Event: []byte(`{"context":{"raw":"{\"password\":\"pw-In-Event-String-1\"}"}}`),
		Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/u", Status: 200,
			Body: `{"payload":"{\"user\":{\"clientSecret\":\"cs-In-Body-String-2\"}}"}`}},
	}, PIIRule{})
	for _, v := range []string{"pw-In-Event-String-1", "cs-In-Body-String-2"} {
		if strings.Contains(stored, v) {
			t.Errorf("password field inside a JSON string is stored (%s): %s", v, stored)
		}
	}
}

// TestRedactPercentEncodedEmails: an address inside a URL held in a JSON
// string or in a form body is percent-encoded (alice%40example.com); the
// rule applies to it as to alice@example.com.
func TestRedactPercentEncodedEmails(t *testing.T) {
	stored := mustRedact(t, Call{
		Event: []byte(`{"context":{"returnTo":"https://app.example.com/cb?login_hint=alice.person%40example.com"}}`),
		Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/u", Status: 200,
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: "email=bob.person%40example.com&x=1"}},
	}, PIIRule{})
	for _, v := range []string{"alice.person", "bob.person"} {
		if strings.Contains(stored, v) {
			t.Errorf("a percent-encoded email's local part is stored (%s): %s", v, stored)
		}
	}
}

// TestRedactEmailsInsideJWTs: an id_token (or any JWT) in an event or a
// token endpoint's answer carries email and name claims base64url-encoded;
// stored as is, the PII rule does not reach them.
func TestRedactEmailsInsideJWTs(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jwt := seg(`{"alg":"RS256","typ":"JWT"}`) + "." + seg(`{"sub":"kp_1","email":"carol.person@example.com","given_name":"Carol"}`) + ".c2ln"
	stored := mustRedact(t, Call{Event: []byte(`{}`), Fetch: []httpstub.Stub{{Method: "POST", URL: "https://auth.example.com/token",
		Status: 200, Body: `{"id_token":"` + jwt + `"}`}}}, PIIRule{})
	for _, part := range strings.Split(stored, ".") {
		for _, p := range strings.FieldsFunc(part, func(r rune) bool { return r == '"' || r == ':' || r == ',' }) {
			if b, err := base64.RawURLEncoding.DecodeString(p); err == nil && strings.Contains(string(b), "carol.person") {
				t.Errorf("an email inside a JWT is stored readable: %s", b)
			}
		}
	}
}

// TestRedactBoundsRecordedHeaders: the two headers kept of an answer
// (Content-Type, Location) count toward the bound on a call's recorded
// answers like URLs and bodies: a service's megabyte header made the
// stored recording several times the documented size.
func TestRedactBoundsRecordedHeaders(t *testing.T) {
	_, err := Redact(Call{WorkflowID: "wf", Event: []byte(`{}`), Env: testEnv, Fetch: []httpstub.Stub{{Method: "GET",
		URL: "https://api.example.com/x", Status: 200,
		Headers: map[string]string{"Content-Type": "text/plain; x=" + strings.Repeat("a", 3<<20)}, Body: "ok"}}}, PIIRule{}, testKey)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a 3 MiB header was recorded (err %v)", err)
	}
}

// TestRedactURLFragments: an auth server's redirect puts tokens and
// fields in the fragment (response_mode=fragment: #id_token=…&password=…);
// the rule reaches the fragment as it does the query.
func TestRedactURLFragments(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jwt := seg(`{"alg":"RS256"}`) + "." + seg(`{"email":"erin.person@example.com"}`) + ".c2ln"
	for _, loc := range []string{
		"https://app.example.com/cb#id_token=" + jwt + "&state=1",
		"https://app.example.com/cb?x=1#id_token=" + jwt + "&password=pw-In-Fragment-9",
	} {
		stored := mustRedact(t, Call{Event: []byte(`{}`), Fetch: []httpstub.Stub{{Method: "GET", URL: "https://auth.example.com/authorize",
			Status: 302, Headers: map[string]string{"Location": loc}}}}, PIIRule{})
		if strings.Contains(stored, "pw-In-Fragment-9") || strings.Contains(stored, seg(`{"email":"erin.person@example.com"}`)) {
			t.Errorf("a fragment's password or id_token is stored: %s", stored)
		}
	}
}

// TestRedactKeepsJSONTextWithNothingToChange: JSON carried as text with
// nothing the rule touches is stored as written (a replay hands the
// workflow the same text).
func TestRedactKeepsJSONTextWithNothingToChange(t *testing.T) {
	stored := mustRedact(t, Call{Event: []byte(`{"raw":"{ \"b\": 1, \"a\": [1, 2] }"}`)}, PIIRule{})
	if !strings.Contains(stored, `{ \"b\": 1, \"a\": [1, 2] }`) {
		t.Errorf("JSON text rewritten: %s", stored)
	}
}

// TestRedactInternationalEmails: an address with a non-ASCII local part
// or domain (RFC 6531, IDN) is an email address too.
func TestRedactInternationalEmails(t *testing.T) {
	stored := mustRedact(t, Call{Event: []byte(`{"context":{"user":{"email":"josé@example.com","other":"frank@bücher.de"}}}`)}, PIIRule{})
	for _, v := range []string{"josé", "frank"} {
		if strings.Contains(stored, v) {
			t.Errorf("the local part %q is stored: %s", v, stored)
		}
	}
}

// TestRedactFieldRulesInQueriesAndForms: a field the rule drops or hashes
// in the event (a name, a phone, a listed dropField) is a field in a URL
// query or form body too: a workflow passing event.user.first_name or an
// SSN to a service kept it in the recorded URL.
func TestRedactFieldRulesInQueriesAndForms(t *testing.T) {
	stored := mustRedact(t, Call{
		Event: []byte(`{"context":{"user":{"first_name":"Carolyn","ssn":"123-45-6789"}}}`),
		Fetch: []httpstub.Stub{{Method: "GET", URL: "https://crm.example.com/api?first_name=Carolyn&ssn=123-45-6789&phone=%2B15551234567&username=carolyn99",
			Status: 200, Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: "family_name=Persondottir&ok=1"}},
	}, PIIRule{DropFields: []string{"ssn"}})
	for _, v := range []string{"Carolyn", "123-45-6789", "5551234567", "carolyn99", "Persondottir"} {
		if strings.Contains(stored, v) {
			t.Errorf("%q is stored: %s", v, stored)
		}
	}
}

// TestRedactDroppedPasswordFieldCopiesRemoved: listing a password field
// in dropFields (to be safe) must not stop its value being removed where
// else it appears.
func TestRedactDroppedPasswordFieldCopiesRemoved(t *testing.T) {
	stored := mustRedact(t, Call{
		Event: []byte(`{"data":{"userPassword":"pw-Dropped-Copy-3"},"creds":[{"clientSecret":"cs-Dropped-Copy-4"}]}`),
		Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/check?u=pw-Dropped-Copy-3&c=cs-Dropped-Copy-4", Status: 200, Body: `{"ok":true}`}},
	}, PIIRule{DropFields: []string{"userPassword", "creds"}})
	for _, v := range []string{"pw-Dropped-Copy-3", "cs-Dropped-Copy-4"} {
		if strings.Contains(stored, v) {
			t.Errorf("a dropped password field's value %s is stored elsewhere: %s", v, stored)
		}
	}
}

// TestRedactBearerTokens: the M2M token answer (and any token endpoint's)
// holds a live bearer credential got with a secret variable; a recording
// keeps no usable one: a JWT loses its signature, an opaque token is
// replaced by a keyed hash, and its copies elsewhere are removed.
func TestRedactBearerTokens(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	sig := "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	jwt := seg(`{"alg":"RS256","typ":"JWT"}`) + "." + seg(`{"aud":["https://x.kinde.com/api"],"scp":["read:users"]}`) + "." + sig
	stored := mustRedact(t, Call{Event: []byte(`{}`), Fetch: []httpstub.Stub{
		{Method: "POST", URL: "https://x.kinde.com/oauth2/token", Status: 200, Body: `{"access_token":"` + jwt + `","expires_in":86400}`},
		{Method: "POST", URL: "https://github.com/login/oauth/access_token", Status: 200,
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: "access_token=gho_Opaque0123456789&refresh_token=ghr_Opaque9876543210"},
		{Method: "GET", URL: "https://api.example.com/me?access_token=gho_Opaque0123456789", Status: 200, Body: `{}`},
	}}, PIIRule{})
	for _, v := range []string{sig, "gho_Opaque0123456789", "ghr_Opaque9876543210"} {
		if strings.Contains(stored, v) {
			t.Errorf("a usable bearer credential is stored (%s): %s", v, stored)
		}
	}
}

// TestRedactPasswordFieldsOfJSONLikeBodies: JSON a service sends with a
// byte-order mark, or as a stream of values (NDJSON), is JSON to a
// workflow too; its password fields go.
func TestRedactPasswordFieldsOfJSONLikeBodies(t *testing.T) {
	for _, body := range []string{
		"\ufeff" + `{"user":"u1","password":"pw-Behind-BOM-5"}`,
		`{"n":1}` + "\n" + `{"clientSecret":"pw-In-NDJSON-6"}` + "\n",
	} {
		stored := mustRedact(t, Call{Event: []byte(`{}`), Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/x",
			Status: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}}}, PIIRule{})
		if strings.Contains(stored, "pw-Behind-BOM-5") || strings.Contains(stored, "pw-In-NDJSON-6") {
			t.Errorf("a password field is stored: %s", stored)
		}
	}
}

// TestRedactEmailInURLPathReplays: an address a workflow put in a URL
// path (encodeURIComponent) is hashed in place, with its encoding, to the
// value the replayed workflow builds from the redacted event.
func TestRedactEmailInURLPathReplays(t *testing.T) {
	rec, err := Redact(Call{WorkflowID: "wf", Env: testEnv, Event: []byte(`{"email":"alice+x@example.com"}`), Fetch: []httpstub.Stub{
		{Method: "GET", URL: "https://api.example.com/users/alice%2Bx%40example.com/roles%2Fall", Status: 200},
		{Method: "GET", URL: "https://api.example.com/users/alice+x@example.com", Status: 200},
	}}, PIIRule{}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ Email string }
	if err := json.Unmarshal(rec.Event, &ev); err != nil {
		t.Fatal(err)
	}
	want := []string{"https://api.example.com/users/" + url.PathEscape(ev.Email) + "/roles%2Fall", "https://api.example.com/users/" + ev.Email}
	want[0] = strings.Replace(want[0], "@", "%40", 1)
	for i, w := range want {
		if rec.Fetch[i].URL != w {
			t.Errorf("recorded URL %d = %s, want %s", i, rec.Fetch[i].URL, w)
		}
	}
}

// TestRedactNumericSecretInEvent: a numeric secret value that is a JSON
// number in the event is removed too (replacing it as text breaks the
// JSON, and the structure-safe form scrubbed only strings).
func TestRedactNumericSecretInEvent(t *testing.T) {
	env := map[string]bindings.EnvVar{"ACCOUNT_PIN": {Value: "918273645", IsSecret: true}}
	stored := mustRedact(t, Call{Env: env, Event: []byte(`{"context":{"account":918273645,"n":[1,918273645]}}`)}, PIIRule{})
	if strings.Contains(stored, "918273645") {
		t.Errorf("a numeric secret is stored: %s", stored)
	}
}

// TestRedactFallbackBuildsRedactorOnce: an event whose text pass breaks
// its JSON (a numeric secret) is scrubbed string by string; that must not
// rebuild the redactor per string (a 80 KB event took the recorder
// seconds, a 1 MiB one minutes). Counted in allocations, not time.
func TestRedactFallbackBuildsRedactorOnce(t *testing.T) {
	env := map[string]bindings.EnvVar{"PIN": {Value: "918273645", IsSecret: true}}
	for i := range 20 {
		env["S"+string(rune('A'+i))] = bindings.EnvVar{Value: "sk_live_secret_value_abcdefgh_" + string(rune('A'+i)), IsSecret: true}
	}
	strs := strings.TrimSuffix(strings.Repeat(`"x",`, 1000), ",")
	run := func(event string) float64 {
		return testing.AllocsPerRun(1, func() {
			if _, err := Redact(Call{WorkflowID: "wf", Event: []byte(event), Env: env}, PIIRule{}, testKey); err != nil {
				t.Fatal(err)
			}
		})
	}
	normal, fallback := run(`{"n":1,"a":[`+strs+`]}`), run(`{"n":918273645,"a":[`+strs+`]}`)
	if fallback > 4*normal {
		t.Errorf("the fallback made %.0f allocations, the normal pass %.0f", fallback, normal)
	}
}

// TestRedactNumericSecretInJSONAnswer: a JSON answer holding a numeric
// secret as a number is stored without it and still as JSON (the replayed
// workflow parses it).
func TestRedactNumericSecretInJSONAnswer(t *testing.T) {
	env := map[string]bindings.EnvVar{"ACCOUNT_PIN": {Value: "918273645", IsSecret: true}}
	rec, err := Redact(Call{WorkflowID: "wf", Env: env, Event: []byte(`{}`), Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/x",
		Status: 200, Body: `{"echo":918273645,"ok":true}`}}}, PIIRule{}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if b := rec.Fetch[0].Body; strings.Contains(b, "918273645") || !json.Valid([]byte(b)) {
		t.Errorf("stored answer %s", b)
	}
}
