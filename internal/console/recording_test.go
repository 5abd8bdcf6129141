package console

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/replay"
)

// TestRecordingSection: the environment page's recording toggle, export
// link and delete-all, and CSRF on both forms.
func TestRecordingSection(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	c.mustSignIn()
	ctx := t.Context()

	_, page := c.get("/console/env/prod/")
	for _, want := range []string{`id="recording"`, `action="/console/env/prod/recording"`, `name="workflow" type="checkbox" value="claims"`,
		`href="/console/env/prod/recordings/export"`, `action="/console/env/prod/recordings/delete"`, `value="10"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %s:\n%s", want, page)
		}
	}
	good := csrf(t, page)

	// CSRF: without the token, with a forged one, or cross-origin, nothing changes.
	on := url.Values{"enabled": {"on"}, "workflow": {"claims"}, "samplePercent": {"50"}}
	for name, tc := range map[string]struct {
		form url.Values
		hdr  []string
	}{
		"no token":     {on, nil},
		"forged token": {withCSRF(on, "forged"), nil},
		"cross-origin": {withCSRF(on, good), []string{"Origin", "https://evil.example"}},
	} {
		for _, path := range []string{"/console/env/prod/recording", "/console/env/prod/recordings/delete"} {
			resp, body := c.do("POST", path, tc.form, tc.hdr...)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
				t.Fatalf("%s %s: %d, want 403 naming CSRF", name, path, resp.StatusCode)
			}
		}
	}
	if st, _ := h.deploy.RecordingSettings(ctx, "prod"); st.Enabled {
		t.Fatal("a refused form turned recording on")
	}

	// Out-of-range sample rates are refused with the settings' message.
	for _, pct := range []string{"150", "-5", "0", "NaN", "lots"} {
		resp, body := c.do("POST", "/console/env/prod/recording", withCSRF(url.Values{"enabled": {"on"}, "workflow": {"claims"}, "samplePercent": {pct}}, good))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "sampleRate") {
			t.Fatalf("sample %s%%: %d", pct, resp.StatusCode)
		}
	}

	resp, _ := c.do("POST", "/console/env/prod/recording", withCSRF(on, good))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	st, _ := h.deploy.RecordingSettings(ctx, "prod")
	if !st.Enabled || st.SampleRate != 0.5 || len(st.Workflows) != 1 || st.Workflows[0] != "claims" {
		t.Fatalf("saved settings = %+v", st)
	}
	if _, page = c.get("/console/env/prod/?done=recording"); !strings.Contains(page, "recording settings are saved") || !strings.Contains(page, `value="claims" checked`) {
		t.Fatalf("page after saving:\n%s", page)
	}

	for _, ev := range []string{`{"n":1}`, `{"n":2}`} {
		if _, err := h.deploy.AddRecording(ctx, "prod", replay.Recorded{WorkflowID: "claims", Trigger: "user:tokens_generation", Event: json.RawMessage(ev)}, 10); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := c.get("/console/env/prod/recordings/export")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	n := 0
	for sc := bufio.NewScanner(strings.NewReader(body)); sc.Scan(); n++ {
		var r replay.Recorded
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.WorkflowID != "claims" {
			t.Fatalf("export line %q", sc.Text())
		}
	}
	if n != 2 {
		t.Fatalf("export has %d lines", n)
	}
	// Signed out, the export is a sign-in redirect, not data.
	if resp, body := h.client().get("/console/env/prod/recordings/export"); resp.StatusCode != http.StatusSeeOther || strings.Contains(body, "claims") {
		t.Fatalf("signed-out export: %d", resp.StatusCode)
	}

	resp, _ = c.do("POST", "/console/env/prod/recordings/delete", withCSRF(url.Values{}, good))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete-all: %d", resp.StatusCode)
	}
	if left, _ := h.deploy.Recordings(ctx, "prod", "", 10); len(left) != 0 {
		t.Fatalf("%d recordings left after delete-all", len(left))
	}
}

func withCSRF(v url.Values, tok string) url.Values {
	out := url.Values{"_csrf": {tok}}
	for k, vs := range v {
		out[k] = vs
	}
	return out
}
