package runtime

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Issue 18.1: public Kinde code reaches the bindings through globalThis
// ((globalThis as any).kinde?.widget?.invalidateFormField(…)), as Kinde's
// runtime sets kinde and console as globals. A password policy written
// that way must set its form error, not pass silently.
func TestGlobalKindeRunsPasswordPolicy(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		e := New(Options{Fresh: fresh})
		p := load(t, e, handler(`
const g = globalThis;
const pw = event.context.auth.firstPassword;
if (pw.length < 12) {
  g.kinde?.widget?.invalidateFormField("p_first_password", "Use at least 12 characters");
}
g.console.log("same console:", g.console === console, "same kinde:", g.kinde === kinde);`))
		s := workflow.Settings{ID: "pw", Trigger: workflow.NewPasswordProvided,
			Bindings: map[string]workflow.BindingSettings{workflow.BindWidget: {}, workflow.BindConsole: {}}}
		r := e.Run(context.Background(), Invocation{Program: p, Settings: s,
			Event: []byte(`{"context": {"auth": {"firstPassword": "short"}}}`)})
		e.Close()
		wantSucceeded(t, r)
		if r.Widget == nil || r.Widget.InvalidFormFields["p_first_password"] != "Use at least 12 characters" {
			t.Fatalf("fresh=%v: widget %+v; want the form error set through globalThis.kinde", fresh, r.Widget)
		}
		if len(r.Logs) != 1 || r.Logs[0].Message != "same console: true same kinde: true" {
			t.Fatalf("fresh=%v: logs %+v", fresh, r.Logs)
		}
	}
}

// The global kinde is the running invocation's own: nothing one run puts
// on it or tries to put on globalThis reaches the next run on the same
// pooled runtime, and the getters themselves are frozen.
func TestGlobalKindeIsPerInvocation(t *testing.T) {
	e := New(Options{Limits: Limits{PoolSize: 1}})
	defer e.Close()
	p := load(t, e, `module.exports.default = async function (event) {
  const left = [];
  const G = globalThis;
  if (G.kinde.stash) left.push("kinde.stash=" + G.kinde.stash);
  if (G.console.stash) left.push("console.stash=" + G.console.stash);
  for (const k of ["kinde", "console"]) {
    const d = Object.getOwnPropertyDescriptor(G, k);
    if (d.get.stash) left.push(k + ".get.stash=" + d.get.stash);
    try { d.get.stash = event.user } catch (e) {}
    try { Object.defineProperty(G, k, { value: { stash: event.user } }) } catch (e) {}
    try { G[k] = { stash: event.user } } catch (e) {}
    if (!Object.isFrozen(d.get)) left.push(k + " getter open");
    if (d.set !== undefined || d.configurable) left.push(k + " redefinable");
  }
  G.kinde.stash = event.user;
  G.console.stash = event.user;
  if (left.length) kinde.accessToken.setCustomClaim("left", left.join(","));
  kinde.accessToken.setCustomClaim("same", G.kinde === kinde && G.console === console);
};`)
	wantSucceeded(t, run(t, e, p, `{"user": "kp_alice"}`))
	r := run(t, e, p, `{"user": "kp_bob"}`)
	wantSucceeded(t, r)
	if len(p.pool) != 1 {
		t.Fatalf("the runtime was not reused (pool %d): the test proves nothing", len(p.pool))
	}
	if l := claim(r, "left"); l != nil {
		t.Fatalf("Bob's run read %v", l)
	}
	if claim(r, "same") != true {
		t.Fatalf("globalThis.kinde/console are not the run's own objects")
	}
	// Between runs the idle runtime holds neither.
	sl := <-p.pool
	defer func() { p.pool <- sl }()
	if sl.kinde != nil || sl.console != nil {
		t.Fatal("the idle runtime still holds the last run's kinde or console")
	}
	v, err := sl.vm.RunString(`typeof globalThis.kinde + " " + typeof globalThis.console`)
	if err != nil || v.String() != "undefined undefined" {
		t.Fatalf("between runs: %v %v; want undefined undefined", v, err)
	}
}

// Issue 18.3: kinde.cache read undeclared says to declare kinde.fetch (it
// comes with kinde.fetch or kinde.secureFetch), never "kinde.cache": {}.
func TestUndeclaredCacheHint(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	for _, c := range []struct{ name, body, want string }{
		{"cache", `await kinde.cache.jwtToken({ key: "k" })`,
			`the workflow read kinde.cache without declaring it: add "kinde.fetch": {} to workflowSettings.bindings; kinde.cache exists when kinde.fetch or kinde.secureFetch is declared)`},
		{"cache and fetch", `kinde.cache; await kinde.fetch("https://a.example/")`,
			`the workflow read kinde.cache, kinde.fetch without declaring it: add "kinde.fetch": {} to workflowSettings.bindings; kinde.cache exists`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, e, load(t, e, handler(c.body)), `{}`)
			wantFailed(t, r, c.want)
			if strings.Contains(r.Error.Message, `"kinde.cache": {}`) || r.Error.Kind != workflow.KindBinding {
				t.Fatalf("error %+v", r.Error)
			}
		})
	}
}

// Issue 18.5: the fixes Node habits need, in the failed run's message.
func TestKindeMistakeHints(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"tier": "gold"}`)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	e := New(Options{})
	defer e.Close()
	st := workflow.Settings{ID: "wf", Trigger: workflow.UserTokenGeneration,
		Bindings: map[string]workflow.BindingSettings{workflow.BindFetch: {}, workflow.BindAccessToken: {}}}
	for _, c := range []struct{ name, body, want string }{
		{"res.json()", `const res = await kinde.fetch("` + srv.URL + `/tier", { method: "GET" });
const body = await res.json();`, "a kinde.fetch response's json is the parsed body, not a method: read res.json, without ()"},
		{"process.env", `kinde.accessToken.setCustomClaim("tier", process.env.TIER);`,
			`workflows have no process.env: declare "kinde.env": {} and read kinde.env.get("NAME")?.value, or call getEnvironmentVariable("NAME")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := &bindings.Config{Settings: st, Net: &bindings.NetPolicy{AllowHosts: []string{host}, Timeout: time.Minute}}
			r := e.Run(context.Background(), Invocation{Program: load(t, e, handler(c.body)), Settings: st, Event: []byte(`{}`), Bindings: cfg})
			wantFailed(t, r, c.want)
		})
	}
	// Reading json as the body works, and another "not a function" says nothing of fetch.
	cfg := &bindings.Config{Settings: st, Net: &bindings.NetPolicy{AllowHosts: []string{host}, Timeout: time.Minute}}
	r := e.Run(context.Background(), Invocation{Program: load(t, e, handler(`const res = await kinde.fetch("`+srv.URL+`/", { method: "GET" });
kinde.accessToken.setCustomClaim("tier", res.json.tier); const n = 5; n();`)), Settings: st, Event: []byte(`{}`), Bindings: cfg})
	wantFailed(t, r, "TypeError")
	if strings.Contains(r.Error.Message, "parsed body") {
		t.Fatalf("hint on an unrelated error after json was read as the body: %q", r.Error.Message)
	}
}
