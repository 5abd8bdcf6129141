package adapters_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/adapters/adapterstest"
)

// BenchmarkAdapterOverhead calls the runtime API and an adapter endpoint
// alternately on one Flowgate (same workflow, same claims), so both see the
// same machine load, and reports each one's p50/p99 and the adapter's
// extra p99 in microseconds.
//
//	go test ./internal/adapters -run '^$' -bench AdapterOverhead -benchtime 2000x -count 5
func BenchmarkAdapterOverhead(b *testing.B) {
	fg := adapterstest.StartFlowgate(b, map[string]string{
		"kindeSrc/environment/workflows/tokensWorkflow.ts": tokensWorkflow,
		"kindeSrc/environment/workflows/loginWorkflow.ts": `
export const workflowSettings = { id: "benchLogin", trigger: "user:post_authentication", bindings: { "kinde.auth": {} } };
export default async function (event: any) { if (event.context.user.id === "x") kinde.auth.denyAccess("no"); }
`,
	}, nil, "attackTokens", "benchLogin")
	const runtimeEvent = `{"request": {"auth": {"audience": []}}, "context": {"workflow": {"trigger": "user:tokens_generation"}, "user": {"id": "u1"}, "auth": {"origin": "authorization_code"}, "application": {"clientId": "c1"}}}`
	const hydraBody = `{"session": {"extra": {"consent": "given"}, "id_token": {"id_token_claims": {"ext": {"sid": "s1"}}, "subject": "u1"}, "client_id": "c1"}, "request": {"client_id": "c1", "requested_scopes": ["openid"], "granted_scopes": [], "granted_audience": [], "grant_types": ["authorization_code"], "payload": {"grant_type": ["authorization_code"]}}}`
	const loginEvent = `{"request": {"ip": "", "userAgent": "ua"}, "context": {"workflow": {"trigger": "user:post_authentication"}, "user": {"id": "u1"}, "auth": {"connectionId": "password"}}}`
	const kratosBody = `{"flow": {"id": "f1", "type": "api", "request_url": "http://kratos.test/self-service/login/api", "active": "password"}, "identity": {"id": "u1", "traits": {"email": "a@b.test"}}, "request_headers": {"User-Agent": ["ua"]}}`
	env := fg.URL + "/api/v1/environments/production"
	pairs := []struct {
		name                       string
		plainURL, plainBody        string
		adapterURL, adapterBody    string
		plainStatus, adapterStatus int
	}{
		{"hydra", env + "/triggers/user:tokens_generation", runtimeEvent, env + "/adapters/hydra/token-hook", hydraBody, 200, 200},
		{"kratos", env + "/triggers/user:post_authentication", loginEvent, env + "/adapters/kratos/login", kratosBody, 200, 204},
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	call := func(b *testing.B, u, body string, want int) time.Duration {
		req, _ := http.NewRequest("POST", u, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fg.RuntimeToken)
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != want {
			b.Fatalf("%s: %d, want %d", u, resp.StatusCode, want)
		}
		return d
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			for range 50 { // warm the caches and the compiled program
				call(b, p.plainURL, p.plainBody, p.plainStatus)
				call(b, p.adapterURL, p.adapterBody, p.adapterStatus)
			}
			plain := make([]time.Duration, 0, b.N)
			adapter := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				plain = append(plain, call(b, p.plainURL, p.plainBody, p.plainStatus))
				adapter = append(adapter, call(b, p.adapterURL, p.adapterBody, p.adapterStatus))
			}
			b.StopTimer()
			slices.Sort(plain)
			slices.Sort(adapter)
			q := func(d []time.Duration, f float64) float64 {
				return float64(d[min(len(d)-1, int(f*float64(len(d))))].Microseconds())
			}
			b.ReportMetric(q(plain, 0.5), "plain-p50-µs")
			b.ReportMetric(q(plain, 0.99), "plain-p99-µs")
			b.ReportMetric(q(adapter, 0.5), "adapter-p50-µs")
			b.ReportMetric(q(adapter, 0.99), "adapter-p99-µs")
			b.ReportMetric(q(adapter, 0.99)-q(plain, 0.99), "extra-p99-µs")
		})
	}
}
