package app

import (
	"context"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp"
)

// hostSecretVar is set to hostSecret in the test process's environment
// (TestMain): a secret of the host that no workflow may see.
const hostSecretVar, hostSecret = "ZZ_HOST_SECRET", "hostsecret_4242"

func TestAttackPRSeesNothing(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	r := start(t, w.cfg)
	base := r.URL()
	one := w.commit("one", "gold", false)
	w.post(base, "", "push", w.pushPayload(one), "")
	eventually(t, "one", ghTimeout, completed(w, one))
	r.App.Deploy().PutVariable(context.Background(), "production", "API_KEY", "envsecret_7373", true)
	code := `let out = [];
try { out.push("proc:" + JSON.stringify(process.env)); } catch (e) { out.push("noproc"); }
try { out.push("env:" + JSON.stringify(kinde.env.get("API_KEY"))); } catch (e) { out.push("noenv " + e); }
try { out.push("g:" + Object.getOwnPropertyNames(globalThis).join(",")); } catch (e) {}
try { out.push("req:" + typeof require); } catch (e) {}
throw new Error("LEAK " + out.join(" | "));
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: {} };
export default async function f() {}
declare const kinde: any; declare const process: any; declare const require: any;
`
	s := w.commitFiles("prleak", map[string]string{"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`, ghWfPath: code})
	pr := w.payload("pull_request", "opened", map[string]any{"pull_request.head.sha": s, "number": 3})
	w.post(base, "", "pull_request", pr, "")
	eventually(t, "pr", ghTimeout, completed(w, s))
	c := w.checks(s)[githubapp.CheckSync]
	all := c.Summary
	for _, a := range c.Annotations {
		all += a["message"].(string)
	}
	i := strings.Index(all, "LEAK")
	t.Logf("%s", all[i:min(len(all), i+600)])
	if strings.Contains(all, hostSecret) || strings.Contains(all, "envsecret_7373") {
		t.Errorf("HOLE: PR saw a secret")
	}
}
