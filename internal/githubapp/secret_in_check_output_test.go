package githubapp

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

func leakScan(t *testing.T, h *harness, secret string, probes ...string) {
	t.Helper()
	for _, c := range h.gh.CheckRuns(testRepo) {
		all := c.Title + "\n" + c.Summary
		for _, a := range c.Annotations {
			all += "\n" + a["message"].(string) + a["title"].(string) + a["path"].(string)
		}
		for _, p := range append([]string{secret}, probes...) {
			if i := strings.Index(all, p); i >= 0 {
				t.Errorf("HOLE: %q (probe of the secret) in check run %q: ...%s...", p, c.Name, all[max(0, i-40):min(len(all), i+len(p)+40)])
			}
		}
	}
}

func secretHarness(t *testing.T, secret string) *harness {
	h := newHarness(t)
	ctx := context.Background()
	h.svc.EnsureEnvironment(ctx, "production")
	if err := h.svc.PutVariable(ctx, "production", "KEY", secret, true); err != nil {
		t.Fatal(err)
	}
	twoLive(t, h)
	return h
}

// a multi-line secret (a PEM key) thrown at top level: the summary's problem
// list runs the message through oneLine() BEFORE redaction.
func TestAttackSecretMultiline(t *testing.T) {
	t.Parallel()
	secret := "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END KEY-----"
	h := secretHarness(t, secret)
	leaky := starter("gold")
	leaky[wfPath] = "const key = " + "`" + secret + "`" + `;
throw new Error("boom " + key);
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: {} };
export default async function f() {}
`
	s, push := h.commit("ml", leaky)
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	t.Logf("sync: %s\n%s\n%v", h.checks(s)[CheckSync].Conclusion, h.checks(s)[CheckSync].Summary, h.checks(s)[CheckSync].Annotations)
	leakScan(t, h, secret, "MIIEvQIBADANBgkqhkiG9w0BAQEF")
}

// A secret straddling the 64 KiB annotation cut / 65535-char summary cut is cut before it is redacted.
func TestAttackSecretTruncation(t *testing.T) {
	t.Parallel()
	secret := "sk_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	h := secretHarness(t, secret)
	for pad := 65250; pad <= 65490; pad += 20 {
		leaky := starter("gold")
		leaky[wfPath] = `const key = "` + secret + `";
throw new Error("x".repeat(` + strconv.Itoa(pad) + `) + key);
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: {} };
export default async function f() {}
`
		_, push := h.commit("tr"+strconv.Itoa(pad), leaky)
		if err := h.deliver("push", push); err != nil {
			t.Fatal(err)
		}
	}
	leakScan(t, h, secret, "sk_live_ABCDEFGHIJ")
}

// A secret with a quote/backslash/non-ASCII char, quoted by a diagnostic with %q.
func TestAttackSecretQuoted(t *testing.T) {
	t.Parallel()
	secret := `pä"ss-w0rd-42`
	h := secretHarness(t, secret)
	leaky := starter("gold")
	leaky[wfPath] = `export const workflowSettings = { id: "addClaims", trigger: ` + "`" + secret + "`" + `, bindings: {} };
export default async function f() {}
`
	s, push := h.commit("q", leaky)
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	t.Logf("sync: %s %s", h.checks(s)[CheckSync].Conclusion, h.checks(s)[CheckSync].Summary)
	leakScan(t, h, secret, `ss-w0rd-42`)
}

// A secret stored with a trailing newline (pasted from a file): the thrown
// message is cut at its first line, so the value never matches whole.
func TestAttackSecretTrailingNewline(t *testing.T) {
	t.Parallel()
	secret := "sk_live_TRAILINGNL99\n"
	h := secretHarness(t, secret)
	leaky := starter("gold")
	leaky[wfPath] = `const key = "sk_live_TRAILINGNL99\n";
throw new Error("boom " + key);
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: {} };
export default async function f() {}
`
	_, push := h.commit("nl", leaky)
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	leakScan(t, h, secret, "sk_live_TRAILINGNL99")
}
