package recording

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
)

const (
	secret   = "sk_live_51HxSecret/Value+9"
	password = "Tr0ub4dor&3 \"horse\""
)

var (
	testKey = []byte("0123456789abcdef0123456789abcdef")
	testEnv = map[string]bindings.EnvVar{"API_KEY": {Value: secret, IsSecret: true}, "REGION": {Value: "eu-west-1"}}
)

func mustRedact(t *testing.T, c Call, rule PIIRule) string {
	t.Helper()
	if c.Env == nil {
		c.Env = testEnv
	}
	c.WorkflowID = "wf"
	rec, err := Redact(c, rule, testKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(rec.Event) {
		t.Fatalf("redacted event is not JSON: %s", rec.Event)
	}
	return string(b)
}

// spellings are forms of v the stored text must never hold (a sample of
// what the runtime's redaction knows).
func spellings(v string) []string {
	j, _ := json.Marshal(v)
	return []string{v, string(j[1 : len(j)-1]), url.QueryEscape(v), url.PathEscape(v), hex.EncodeToString([]byte(v)),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)), strings.ToUpper(v)}
}

func assertAbsent(t *testing.T, stored string, values ...string) {
	t.Helper()
	for _, v := range values {
		for _, f := range spellings(v) {
			if strings.Contains(stored, f) {
				t.Errorf("stored text holds %q (a spelling of %q): %s", f, v, stored)
			}
		}
	}
}

func TestPasswordsAndSecretsNeverStored(t *testing.T) {
	pj, _ := json.Marshal(password)
	sj, _ := json.Marshal(secret)
	for name, c := range map[string]Call{
		"the event's password fields":                {Event: []byte(`{"context":{"auth":{"password":` + string(pj) + `,"firstPassword":` + string(pj) + `,"secondPassword":"other-pass-77"}}}`)},
		"passwords nested in arrays and objects":     {Event: []byte(`{"a":[{"b":[{"userPassword":"deep-pass-1"}]}],"creds":{"old_password":["arr-pass-2",{"x":"arr-pass-3"}]},"PASSWD":"caps-pass-4"}`)},
		"flags named like passwords keep their type": {Event: []byte(`{"isPasswordReset":true,"passwordExpiry":null,"pin":123456789}`)},
		"a password copied into another field":       {Event: []byte(`{"context":{"auth":{"password":"copied-pass-5"}},"log":"user typed copied-pass-5 then","copied-pass-5":1}`)},
		"a secret value inside the event":            {Event: []byte(`{"note":` + string(sj) + `,"b64":"` + base64.StdEncoding.EncodeToString([]byte(secret)) + `","up":"` + strings.ToUpper(secret) + `"}`)},
		"a secret in a fetch URL query and a response body": {Event: []byte(`{}`), Fetch: []httpstub.Stub{
			{Method: "GET", URL: "https://api.example.com/v1/users?api_key=" + url.QueryEscape(secret) + "&q=1", Status: 200,
				Headers: map[string]string{"content-type": "application/json", "Set-Cookie": "session=" + secret},
				Body:    `{"token":` + string(sj) + `,"list":["` + url.PathEscape(secret) + `"]}`},
			{Method: "GET", URL: "https://api.example.com/r", Status: 302, Headers: map[string]string{"Location": "https://api.example.com/next?token=" + url.QueryEscape(secret) + "&password=deep-pass-7"}},
			{Method: "POST", URL: "https://user:" + url.PathEscape(secret) + "@api.example.com/login?password=deep-pass-6", Status: 401,
				Body: "plain text: " + secret + " and " + hex.EncodeToString([]byte(secret))},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			stored := mustRedact(t, c, PIIRule{})
			assertAbsent(t, stored, secret, password, "other-pass-77", "deep-pass-1", "arr-pass-2", "arr-pass-3",
				"caps-pass-4", "copied-pass-5", "deep-pass-6", "deep-pass-7")
			if strings.Contains(string(c.Event), "isPasswordReset") && (!strings.Contains(stored, `"isPasswordReset":true`) ||
				!strings.Contains(stored, `"passwordExpiry":null`) || strings.Contains(stored, "123456789")) {
				t.Errorf("password-named flags: %s", stored)
			}
			if strings.Contains(stored, "Set-Cookie") {
				t.Errorf("a header other than Content-Type was stored: %s", stored)
			}
		})
	}
}

func TestRecordedURLStaysReplayable(t *testing.T) {
	// The parts without secrets or personal data keep their order and
	// spelling: a replay matches URLs exactly.
	c := Call{WorkflowID: "wf", Event: []byte(`{}`), Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/a%2Fb?z=1&a=2&email=ada%40example.com", Status: 200}}}
	rec, err := Redact(c, PIIRule{}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	u := rec.Fetch[0].URL
	if !strings.HasPrefix(u, "https://api.example.com/a%2Fb?z=1&a=2&email=h") || !strings.HasSuffix(u, "%40example.com") {
		t.Fatalf("URL = %s", u)
	}
	// The same email in the event hashes to the same value.
	ev, _ := Redact(Call{WorkflowID: "wf", Event: []byte(`{"email":"ada@example.com"}`)}, PIIRule{}, testKey)
	var got struct{ Email string }
	json.Unmarshal(ev.Event, &got)
	if !strings.Contains(u, url.QueryEscape(got.Email)) {
		t.Fatalf("event email %s and URL %s hash differently", got.Email, u)
	}
}

func TestPIIRule(t *testing.T) {
	event := `{"request":{"ip":"203.0.113.7","forwarded":"[2001:db8::1]:443"},"context":{"user":{"id":"kp_1","email":"Ada.L@Example.com",
		"given_name":"Ada","familyName":"Lovelace","full-name":"Ada Lovelace","phone_number":"+44 20 7946 0958","suppliedUsername":"ada77",
		"bio":"write to ada.l@example.com or bob@corp.example","ssn":"123-45-6789"}}}`
	cases := []struct {
		name       string
		rule       PIIRule
		want, gone []string
	}{
		{"defaults", PIIRule{},
			[]string{`"id":"kp_1"`, "@example.com", "@corp.example", `"ip":"2`, `"phone_number":"+999`, `"ssn":"123-45-6789"`},
			[]string{"203.0.113.7", "2001:db8::1", "Ada", "Lovelace", "7946", "ada77", "ada.l@", "bob@", "given_name", "familyName", "full-name"}},
		{"keep everything", PIIRule{Emails: Keep, IPs: Keep, Phones: Keep, Names: Keep, Usernames: Keep},
			[]string{"203.0.113.7", "Ada.L@Example.com", "Lovelace", "+44 20 7946 0958", "ada77"}, nil},
		{"drop everything, and a custom field", PIIRule{Emails: Drop, IPs: Drop, Phones: Drop, Names: Drop, Usernames: Drop, DropFields: []string{"SSN"}},
			[]string{`"id":"kp_1"`, `"ip":""`},
			[]string{"203.0.113.7", "example.com", "Lovelace", "7946", "ada77", "phone_number", "123-45-6789"}},
		{"whole emails hashed", PIIRule{Emails: Hash},
			[]string{"@example.invalid"}, []string{"Example.com", "corp.example"}},
		{"names hashed", PIIRule{Names: Hash},
			[]string{`"given_name":"h`}, []string{"Lovelace"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rule.Defaults().Validate(); err != nil {
				t.Fatal(err)
			}
			stored := mustRedact(t, Call{WorkflowID: "wf", Event: []byte(event)}, tc.rule)
			for _, w := range tc.want {
				if !strings.Contains(stored, w) {
					t.Errorf("stored text lacks %s: %s", w, stored)
				}
			}
			for _, g := range tc.gone {
				if strings.Contains(stored, g) {
					t.Errorf("stored text holds %s: %s", g, stored)
				}
			}
		})
	}
}

func TestHashesKeyedPerEnvironment(t *testing.T) {
	ev := Call{WorkflowID: "wf", Event: []byte(`{"email":"ada@example.com","ip":"198.51.100.4"}`)}
	a1, _ := Redact(ev, PIIRule{}, testKey)
	a2, _ := Redact(ev, PIIRule{}, testKey)
	b, _ := Redact(ev, PIIRule{}, []byte("another-environment-key-32-bytes"))
	if string(a1.Event) != string(a2.Event) {
		t.Fatal("one key hashed one event two ways")
	}
	if string(a1.Event) == string(b.Event) {
		t.Fatal("two environments' keys gave the same hashes")
	}
}

func TestOversizedCallsRefused(t *testing.T) {
	huge := `{"pad":"` + strings.Repeat("a", MaxEventBytes) + `"}`
	if _, err := Redact(Call{WorkflowID: "wf", Event: []byte(huge)}, PIIRule{}, testKey); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge event: %v", err)
	}
	many := make([]httpstub.Stub, MaxFetch+1)
	if _, err := Redact(Call{WorkflowID: "wf", Event: []byte(`{}`), Fetch: many}, PIIRule{}, testKey); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too many fetches: %v", err)
	}
	bodies := []httpstub.Stub{{Method: "GET", URL: "https://a.example/", Status: 200, Body: strings.Repeat("b", MaxFetchBytes/2+1)},
		{Method: "GET", URL: "https://a.example/", Status: 200, Body: strings.Repeat("b", MaxFetchBytes/2+1)}}
	if _, err := Redact(Call{WorkflowID: "wf", Event: []byte(`{}`), Fetch: bodies}, PIIRule{}, testKey); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized bodies: %v", err)
	}
	// Deeper than the replay reads: refused, whatever the depth.
	for _, n := range []int{100, 5000} {
		deep := strings.Repeat("[", n) + strings.Repeat("]", n)
		if _, err := Redact(Call{WorkflowID: "wf", Event: []byte(`{"d":` + deep + `}`)}, PIIRule{}, testKey); err == nil || errors.Is(err, ErrTooLarge) {
			t.Fatalf("an event nested %d deep: %v", n, err)
		}
	}
	if _, err := Redact(Call{WorkflowID: "wf", Event: []byte(`{"d":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}`)}, PIIRule{}, testKey); err != nil {
		t.Fatalf("an event nested 50 deep: %v", err)
	}
	if _, err := Redact(Call{WorkflowID: "wf", Event: []byte(`{"a":`)}, PIIRule{}, testKey); err == nil {
		t.Fatal("a broken event was accepted")
	}
}

func TestSettingsValidate(t *testing.T) {
	for name, s := range map[string]Settings{
		"sample rate 0 after defaults is 0.1": {},
		"sample rate 1":                       {SampleRate: 1},
	} {
		if err := s.Defaults().Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	nan := 0.0
	nan = nan / nan
	for name, s := range map[string]Settings{
		"sample rate above 1": {SampleRate: 1.01},
		"negative":            {SampleRate: -0.5},
		"NaN":                 {SampleRate: nan},
		"too many workflows":  {Workflows: make([]string, MaxWorkflows+1)},
		"empty workflow id":   {Workflows: []string{""}},
		"drop field too long": {PII: PIIRule{DropFields: []string{strings.Repeat("x", 129)}}},
	} {
		if err := s.Defaults().Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	c := Call{WorkflowID: "wf", Event: []byte(`{"request":{"ip":"203.0.113.7"},"context":{"auth":{"password":"Tr0ub4dor&3","providedEmail":"ada@example.com"},"user":{"id":"kp_1","given_name":"Ada"}}}`),
		Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/x?email=ada%40example.com", Status: 200, Body: `{"plan":"pro","user":"ada@example.com"}`}},
		Env:   testEnv}
	for b.Loop() {
		if _, err := Redact(c, PIIRule{}, testKey); err != nil {
			b.Fatal(err)
		}
	}
}
