package kratos_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/adapters/adapterstest"
	"github.com/flowgate/flowgate/internal/testenv"
)

const preRegistration = `
export const workflowSettings = {
  id: "kratosRegistration",
  trigger: "user:pre_registration",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.auth": {} },
};

export default async function (event: any) {
  const email: string = event.context.user.email;
  if (email.endsWith("@blocked.test")) kinde.auth.denyAccess("Sign-ups from blocked.test are closed.");
  if (email.startsWith("fail")) throw new Error("the registration workflow broke");
}
`

const postAuthentication = `
export const workflowSettings = {
  id: "kratosLogin",
  trigger: "user:post_authentication",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.auth": {} },
};

export default async function (event: any) {
  console.log("post_authentication for " + event.context.user.id + " via " + event.context.auth.connectionId);
  if (event.context.user.email.startsWith("locked")) kinde.auth.denyAccess("This account is locked.");
}
`

const newPassword = `
export const workflowSettings = {
  id: "kratosPassword",
  trigger: "user:new_password_provided",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.widget": {} },
};

export default async function (event: any) {
  const pw: string = event.context.auth.firstPassword;
  if (!/[0-9]/.test(pw)) {
    console.log("weak password refused: " + pw);
    kinde.widget.invalidateFormField("p_first_password", "Add at least one digit to your password.");
  }
}
`

const identitySchema = `{
  "$id": "https://flowgate.test/identity.schema.json",
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "traits": {
      "type": "object",
      "properties": {
        "email": {
          "type": "string", "format": "email",
          "ory.sh/kratos": { "credentials": { "password": { "identifier": true } } }
        }
      },
      "required": ["email"],
      "additionalProperties": false
    }
  }
}`

// hookBody is the Jsonnet template docs/auth-servers.md gives: the whole
// web hook context but the browser's cookies.
const hookBody = `function(ctx) { [k]: ctx[k] for k in std.objectFields(ctx) if k != "request_cookies" }`

type kratosServer struct {
	public string
	proc   *adapterstest.Process
}

func startKratos(t *testing.T, bin, hookBase, token string) *kratosServer {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "identity.schema.json"), []byte(identitySchema), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, adm := adapterstest.FreePort(t), adapterstest.FreePort(t)
	hook := func(name string) string {
		return fmt.Sprintf(`
            - hook: web_hook
              config:
                url: %q
                method: POST
                body: base64://%s
                response: {parse: true}
                auth:
                  type: api_key
                  config: {in: header, name: Authorization, value: %q}`,
			hookBase+name, base64.StdEncoding.EncodeToString([]byte(hookBody)), "Bearer "+token)
	}
	cfg := fmt.Sprintf(`version: v1.3.1
dsn: memory
serve:
  public: {base_url: "http://127.0.0.1:%[1]d/", host: 127.0.0.1, port: %[1]d}
  admin: {base_url: "http://127.0.0.1:%[2]d/", host: 127.0.0.1, port: %[2]d}
selfservice:
  default_browser_return_url: http://127.0.0.1:1/
  methods:
    password:
      enabled: true
      config: {haveibeenpwned_enabled: false}
  flows:
    registration:
      after:
        password:
          hooks:%[3]s%[7]s
            - hook: session
    login:
      after:
        password:
          hooks:%[4]s
    settings:
      privileged_session_max_age: 15m
      after:
        password:
          hooks:%[5]s
identity:
  default_schema_id: default
  schemas:
    - {id: default, url: "file://%[6]s"}
secrets:
  cookie: ["flowgate-adapters-e2e-cookie-secret"]
  cipher: ["flowgate-adapters-e2e-cipher-32b"]
courier:
  smtp: {connection_uri: "smtps://test:test@127.0.0.1:1/?skip_ssl_verify=true"}
log:
  leak_sensitive_values: false
`, pub, adm, hook("registration"), hook("login"), hook("settings-password"), filepath.Join(dir, "identity.schema.json"), hook("registration-password"))
	if err := os.WriteFile(filepath.Join(dir, "kratos.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &kratosServer{public: fmt.Sprintf("http://127.0.0.1:%d", pub)}
	k.proc = adapterstest.StartProcess(t, dir, bin, fmt.Sprintf("http://127.0.0.1:%d/admin/health/ready", adm),
		"serve", "-c", "kratos.yml", "--dev", "--watch-courier=false")
	return k
}

// flow is the part of a Kratos self-service flow the tests read.
type flow struct {
	ID string `json:"id"`
	UI struct {
		Nodes []struct {
			Attributes struct {
				Name string `json:"name"`
			} `json:"attributes"`
			Messages []message `json:"messages"`
		} `json:"nodes"`
		Messages []message `json:"messages"`
	} `json:"ui"`
	State        string `json:"state"`
	SessionToken string `json:"session_token"`
	Session      *struct {
		Identity struct {
			ID string `json:"id"`
		} `json:"identity"`
	} `json:"session"`
	Identity *struct {
		ID string `json:"id"`
	} `json:"identity"`
}

type message struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
	Type string `json:"type"`
}

// fieldMessages are the texts shown on the node named name ("" for the form).
func (f *flow) fieldMessages(name string) []string {
	var out []string
	if name == "" {
		for _, m := range f.UI.Messages {
			out = append(out, m.Text)
		}
		return out
	}
	for _, n := range f.UI.Nodes {
		if n.Attributes.Name == name {
			for _, m := range n.Messages {
				out = append(out, m.Text)
			}
		}
	}
	return out
}

func (k *kratosServer) call(t *testing.T, method, path, sessionToken string, body any) (int, *flow, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, k.public+path, rd)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	if sessionToken != "" {
		req.Header.Set("X-Session-Token", sessionToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f := &flow{}
	_ = json.Unmarshal(b, f)
	return resp.StatusCode, f, string(b)
}

func (k *kratosServer) register(t *testing.T, email, password string) (int, *flow, string) {
	t.Helper()
	code, f, raw := k.call(t, "GET", "/self-service/registration/api", "", nil)
	if code != 200 {
		t.Fatalf("registration flow: %d %s", code, raw)
	}
	return k.call(t, "POST", "/self-service/registration?flow="+f.ID, "", map[string]any{
		"method": "password", "password": password, "traits": map[string]any{"email": email},
		"transient_payload": map[string]any{"password": password},
	})
}

func (k *kratosServer) login(t *testing.T, email, password string) (int, *flow, string) {
	t.Helper()
	code, f, raw := k.call(t, "GET", "/self-service/login/api", "", nil)
	if code != 200 {
		t.Fatalf("login flow: %d %s", code, raw)
	}
	return k.call(t, "POST", "/self-service/login?flow="+f.ID, "", map[string]any{
		"method": "password", "identifier": email, "password": password,
	})
}

func (k *kratosServer) setPassword(t *testing.T, session, password string) (int, *flow, string) {
	t.Helper()
	code, f, raw := k.call(t, "GET", "/self-service/settings/api", session, nil)
	if code != 200 {
		t.Fatalf("settings flow: %d %s", code, raw)
	}
	return k.call(t, "POST", "/self-service/settings?flow="+f.ID, session, map[string]any{
		"method": "password", "password": password,
		"transient_payload": map[string]any{"password": password},
	})
}

func TestKratosE2E(t *testing.T) {
	bin := testenv.Kratos(t)
	fg := adapterstest.StartFlowgate(t, map[string]string{
		"kindeSrc/environment/workflows/preRegistrationWorkflow.ts":    preRegistration,
		"kindeSrc/environment/workflows/postAuthenticationWorkflow.ts": postAuthentication,
		"kindeSrc/environment/workflows/newPasswordWorkflow.ts":        newPassword,
	}, nil, "kratosRegistration", "kratosLogin", "kratosPassword")
	k := startKratos(t, bin, fg.URL+"/api/v1/environments/production/adapters/kratos/", fg.RuntimeToken)

	t.Run("a registration the workflow denies is refused with its message on the email field", func(t *testing.T) {
		code, f, raw := k.register(t, "eve@blocked.test", "s3cret-enough-pass")
		if code != 400 || f.Identity != nil {
			t.Fatalf("got %d %s, want 400 and no identity", code, raw)
		}
		if got := f.fieldMessages("traits.email"); len(got) != 1 || got[0] != "Sign-ups from blocked.test are closed." {
			t.Fatalf("email field messages = %q; flow: %s", got, raw)
		}
	})

	t.Run("a registration whose workflow fails with policy stop is refused with a generic message", func(t *testing.T) {
		code, f, raw := k.register(t, "fail@example.test", "s3cret-enough-pass")
		if code != 400 || f.Identity != nil {
			t.Fatalf("got %d %s, want 400", code, raw)
		}
		if strings.Contains(raw, "broke") {
			t.Fatalf("the workflow's error reached the user: %s", raw)
		}
	})

	var session string
	t.Run("an allowed registration goes through", func(t *testing.T) {
		code, f, raw := k.register(t, "ada@example.test", "s3cret-enough-pass1")
		if code != 200 || f.SessionToken == "" {
			t.Fatalf("got %d %s", code, raw)
		}
		session = f.SessionToken
	})

	t.Run("a login runs user:post_authentication", func(t *testing.T) {
		code, f, raw := k.login(t, "ada@example.test", "s3cret-enough-pass1")
		if code != 200 || f.SessionToken == "" || f.Session == nil {
			t.Fatalf("got %d %s", code, raw)
		}
		want := "post_authentication for " + f.Session.Identity.ID + " via password"
		adapterstest.Eventually(t, "the login's runtime log", 30*time.Second, func() (bool, string) {
			_, body := fg.Admin("GET", "/api/v1/environments/production/logs?workflow=kratosLogin", nil)
			return strings.Contains(body, want), body
		})
	})

	t.Run("a login the workflow denies is refused with its message", func(t *testing.T) {
		if code, _, raw := k.register(t, "locked@example.test", "s3cret-enough-pass2"); code != 200 {
			t.Fatalf("register: %d %s", code, raw)
		}
		code, f, raw := k.login(t, "locked@example.test", "s3cret-enough-pass2")
		if code == 200 || f.SessionToken != "" {
			t.Fatalf("got %d %s, want a refusal", code, raw)
		}
		if !strings.Contains(raw, "This account is locked.") {
			t.Fatalf("the denial's message is not shown: %s", raw)
		}
	})

	t.Run("a weak password is refused at registration with the workflow's message on the password field", func(t *testing.T) {
		code, f, raw := k.register(t, "bob@example.test", "correct horse battery staple")
		if code != 400 || f.Identity != nil {
			t.Fatalf("got %d %s, want 400", code, raw)
		}
		if got := f.fieldMessages("password"); len(got) != 1 || got[0] != "Add at least one digit to your password." {
			t.Fatalf("password field messages = %q; flow: %s", got, raw)
		}
		// The password the workflow logged is redacted in Flowgate's logs,
		// and neither Flowgate nor Kratos logged it anywhere.
		var logs string
		adapterstest.Eventually(t, "the password workflow's runtime log", 30*time.Second, func() (bool, string) {
			_, logs = fg.Admin("GET", "/api/v1/environments/production/logs?workflow=kratosPassword", nil)
			return strings.Contains(logs, "weak password refused"), logs
		})
		if strings.Contains(logs, "correct horse") || !strings.Contains(logs, "weak password refused: ***") {
			t.Fatalf("runtime logs: %s", logs)
		}
		if strings.Contains(k.proc.Output(), "correct horse") || strings.Contains(fg.Logs(), "correct horse") {
			t.Fatal("the password was logged")
		}
	})

	t.Run("Kratos v1.3.1 does not pass the settings form's transient_payload on: the hook says so on the password field", func(t *testing.T) {
		code, f, raw := k.setPassword(t, session, "c0rrect-h0rse-battery")
		if code != 400 {
			t.Fatalf("got %d %s, want 400", code, raw)
		}
		if got := f.fieldMessages("password"); len(got) != 1 || !strings.Contains(got[0], "transient_payload.password") {
			t.Fatalf("password field messages = %q; flow: %s", got, raw)
		}
	})
}
