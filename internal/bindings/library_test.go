package bindings

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/evanw/esbuild/pkg/api"

	"github.com/flowgate/flowgate/internal/testenv"
	"github.com/flowgate/flowgate/internal/workflow"
)

// bundleWithLibrary bundles a TypeScript entry importing the real
// @kinde/infrastructure into one CommonJS script.
func bundleWithLibrary(t *testing.T, entry string) string {
	t.Helper()
	modules := testenv.NodeModules(t)
	res := api.Build(api.BuildOptions{
		Stdin:     &api.StdinOptions{Contents: entry, Loader: api.LoaderTS, ResolveDir: t.TempDir()},
		NodePaths: []string{modules},
		Bundle:    true,
		Format:    api.FormatCommonJS,
		Target:    api.ES2019,
		Write:     false,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("esbuild: %+v", res.Errors)
	}
	return string(res.OutputFiles[0].Contents)
}

// runBundle runs the bundle's default export with event on a fresh
// runtime and returns the settled value or the rejection.
func runBundle(t *testing.T, bundle string, cfg *Config, event string) (*workflow.Result, string, string) {
	t.Helper()
	sb := newSandbox(t, cfg)
	vm, res := sb.vm, sb.res
	module := vm.NewObject()
	module.Set("exports", vm.NewObject())
	wrapper, err := vm.RunString("(function (module, exports) {" + bundle + "\n})")
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := goja.AssertFunction(wrapper)
	if _, err := fn(goja.Undefined(), module, module.Get("exports")); err != nil {
		t.Fatal(err)
	}
	def, _ := goja.AssertFunction(module.Get("exports").ToObject(vm).Get("default"))
	var ev any
	json.Unmarshal([]byte(event), &ev)
	v, err := def(goja.Undefined(), vm.ToValue(ev))
	if err != nil {
		t.Fatal(err)
	}
	p := v.Export().(*goja.Promise)
	switch p.State() {
	case goja.PromiseStateFulfilled:
		out, _ := json.Marshal(p.Result().Export())
		return res, string(out), ""
	case goja.PromiseStateRejected:
		return res, "", sb.inv.Redact(p.Result().String())
	}
	t.Fatal("promise still pending: a host call was not synchronous")
	return nil, "", ""
}

const kindeAPIWorkflow = `
import { createKindeAPI, accessTokenCustomClaims, getEnvironmentVariable } from "@kinde/infrastructure";
export default async function (event: any) {
	const api = await createKindeAPI(event);
	const { data } = await api.get({ endpoint: "users/" + event.context.user.id, params: { expand: "orgs" } });
	const claims = accessTokenCustomClaims<{ plan: string; orgs: string[] }>();
	claims.plan = data.plan;
	claims.orgs = data.orgs;
	console.log("user", data, "secret", getEnvironmentVariable("KINDE_WF_M2M_CLIENT_SECRET")?.value);
	return data;
}`

func TestLibraryCreateKindeAPIAgainstLocalKinde(t *testing.T) {
	bundle := bundleWithLibrary(t, kindeAPIWorkflow)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	tokenCalls := 0
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth2/token":
			tokenCalls++
			r.ParseForm()
			if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != "cid" ||
				r.Form.Get("client_secret") != "c+secret/=" || r.Form.Get("audience") != srvURL+"/api" {
				http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
				return
			}
			tok := mintRS256(t, key, "k1", time.Now().Add(time.Hour))
			json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 3600})
		case "/.well-known/jwks.json":
			w.Write(jwks)
		case "/api/v1/users/kp_1":
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			w.Write([]byte(`{"id":"kp_1","plan":"pro","orgs":["org_a","org_b"]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	srvURL = srv.URL

	settings := declare(workflow.UserTokenGeneration, workflow.BindFetch, workflow.BindEnv, workflow.BindURL, workflow.BindAccessToken)
	cache := NewTokenCache()
	cfg := func() *Config {
		return &Config{Settings: settings, Cache: cache,
			Env: map[string]EnvVar{
				"KINDE_WF_M2M_CLIENT_ID":     {Value: "cid"},
				"KINDE_WF_M2M_CLIENT_SECRET": {Value: "c+secret/=", IsSecret: true},
			},
			Net: &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}}}
	}
	event := `{"context":{"domains":{"kindeDomain":"` + srv.URL + `"},"user":{"id":"kp_1"},"workflow":{"trigger":"user:tokens_generation"}}}`

	for run := 1; run <= 2; run++ {
		res, out, errText := runBundle(t, bundle, cfg(), event)
		if errText != "" {
			t.Fatalf("run %d rejected: %s\nlogs:\n%s", run, errText, logText(res))
		}
		if out != `{"id":"kp_1","orgs":["org_a","org_b"],"plan":"pro"}` {
			t.Errorf("run %d returned %s", run, out)
		}
		claims, _ := json.Marshal(res.AccessToken.CustomClaims)
		if string(claims) != `{"orgs":["org_a","org_b"],"plan":"pro"}` {
			t.Errorf("run %d claims %s", run, claims)
		}
		if want := "info: user { id: 'kp_1', plan: 'pro', orgs: [ 'org_a', 'org_b' ] } secret ***\n"; logText(res) != want {
			t.Errorf("run %d logs %q, want %q", run, logText(res), want)
		}
	}
	if tokenCalls != 1 {
		t.Errorf("token endpoint called %d times; the second run should use the cached token", tokenCalls)
	}
}

func TestLibraryErrorsWhenBindingsAreNotDeclared(t *testing.T) {
	bundle := bundleWithLibrary(t, kindeAPIWorkflow)
	cfg := &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindEnv),
		Env: map[string]EnvVar{"KINDE_WF_M2M_CLIENT_ID": {Value: "cid"}, "KINDE_WF_M2M_CLIENT_SECRET": {Value: "secret-value", IsSecret: true}}}
	_, _, errText := runBundle(t, bundle, cfg, `{"context":{"domains":{"kindeDomain":"https://x.invalid"},"user":{"id":"kp_1"}}}`)
	// Without kinde.fetch there is no kinde.cache either: the library's own guard is what shows.
	if errText != "TypeError: Cannot read property 'jwtToken' of undefined or null" {
		t.Errorf("error = %q", errText)
	}
}
