// Package kratos is the adapter for Ory Kratos' web hooks (hook: web_hook
// with response.parse: true): registration before the identity is saved
// runs user:pre_registration, login after the first factor runs
// user:post_authentication, a new password in the settings flow runs
// user:new_password_provided.
//
// The contract is Kratos v1.3.1's selfservice/hook/web_hook.go: the body is
// what the hook's Jsonnet template makes of {flow, identity, session,
// request_headers, request_url, request_method, request_cookies} (the
// template documented in docs/auth-servers.md passes everything but the
// cookies); with response.parse an answer >= 400 whose body is
// {"messages": [{"instance_ptr": "#/traits/email", "messages": [{"id",
// "text", "type", "context"}]}]} stops the flow and shows each message on
// the field the pointer names ("#/" for the whole form); 204 lets the flow
// go on. Kratos retries 5xx and connection errors twice, so a deliberate
// refusal is never a 5xx.
//
// Kratos gives web hooks no plaintext password. For user:new_password_provided
// the form must send the new password a second time as
// transient_payload.password, which Kratos passes to web hooks and never
// stores. Kratos v1.3.1 forwards transient_payload in registration and
// login flows but drops it in the settings flow's password method, so
// there the settings-password hook refuses with a message saying so.
package kratos

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"sort"

	"github.com/flowgate/flowgate/internal/adapters"
	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Path is where the hooks are mounted; {hook} is one of Hooks' keys.
const Path = "POST /api/v1/environments/{env}/adapters/kratos/{hook}"

// Hooks maps a hook name (the last URL segment) to its trigger.
var Hooks = map[string]string{
	"registration":          workflow.UserPreRegistration,
	"login":                 workflow.PostAuthentication,
	"registration-password": workflow.NewPasswordProvided,
	"settings-password":     workflow.NewPasswordProvided,
}

// Message ids: Kratos' generic validation error, whose text UIs show as the
// context's reason, so a workflow's message reaches the user unchanged.
const (
	msgValidationGeneric = 4000001
)

// Statuses of a refusal (never 5xx: Kratos would retry it).
const (
	StatusDenied = http.StatusForbidden        // the workflow denied access or invalidated a field
	StatusFailed = http.StatusFailedDependency // the workflow failed and its policy is stop
)

// failedText is what the user sees when a workflow failed with policy
// stop: the error itself is for the runtime logs, not for the form.
const failedText = "This cannot be completed right now. Please try again later."

// HookBody is the web hook body (the fields the adapter reads).
type HookBody struct {
	Flow struct {
		ID               string         `json:"id"`
		Type             string         `json:"type"`
		RequestURL       string         `json:"request_url"`
		Active           string         `json:"active"`
		TransientPayload map[string]any `json:"transient_payload"`
		OAuth2Login      *struct {
			Client struct {
				ClientID string `json:"client_id"`
			} `json:"client"`
		} `json:"oauth2_login_request"`
	} `json:"flow"`
	Identity *struct {
		ID     string         `json:"id"`
		Traits map[string]any `json:"traits"`
	} `json:"identity"`
	RequestHeaders map[string][]string `json:"request_headers"`
	RequestURL     string              `json:"request_url"`
}

// Messages is the refusal body Kratos parses.
type Messages struct {
	Messages []FieldMessages `json:"messages"`
}

// FieldMessages are the messages for one field (a JSON pointer into the form).
type FieldMessages struct {
	InstancePtr string    `json:"instance_ptr"`
	Messages    []Message `json:"messages"`
}

// Message is one message shown to the user.
type Message struct {
	ID      int            `json:"id"`
	Text    string         `json:"text"`
	Type    string         `json:"type"`
	Context map[string]any `json:"context,omitempty"`
}

// Handler serves the Kratos web hooks for rt.
type Handler struct {
	rt  adapters.Runtime
	log *slog.Logger
}

// New returns the web-hook handler.
func New(rt adapters.Runtime, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{rt: rt, log: log}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, hook := r.PathValue("env"), r.PathValue("hook")
	trigger, known := Hooks[hook]
	if !known {
		httpjson.Error(w, http.StatusNotFound, "unknown_hook", "the Kratos hooks are registration, login, registration-password and settings-password")
		return
	}
	opts, raw, ok := adapters.Accept(w, r, h.rt, h.log, env)
	if !ok {
		return
	}
	var body HookBody
	if err := json.Unmarshal(raw, &body); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_hook_body", "the body is not a Kratos web hook context: "+err.Error())
		return
	}
	event, field, err := Event(hook, &body)
	if err != nil {
		refuse(w, StatusDenied, field, err.Error())
		return
	}
	out := adapters.Run(r.Context(), h.rt, h.log, env, trigger, event, opts)
	switch out.Verdict {
	case adapters.Fail:
		refuse(w, StatusFailed, "#/", failedText)
	case adapters.Deny:
		res := out.Result
		if res.Widget != nil && len(res.Widget.InvalidFormFields) > 0 {
			refuseFields(w, res.Widget.InvalidFormFields)
			return
		}
		reason := "Access denied."
		if res.Auth != nil && res.Auth.Reason != "" {
			reason = res.Auth.Reason
		}
		refuse(w, StatusDenied, field, reason)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// missingPassword is the error when the settings form did not pass the new
// password on to the hook.
type missingPassword struct{}

func (missingPassword) Error() string {
	return "The new password could not be checked: the form must also send it as transient_payload.password."
}

// Event maps a web hook body to the Kinde-shaped event of hook's trigger,
// and names the form field a denial is shown on.
func Event(hook string, b *HookBody) (event []byte, field string, err error) {
	trigger := Hooks[hook]
	ctx := map[string]any{"workflow": map[string]any{"trigger": trigger}}
	req := map[string]any{}
	reqURL := b.Flow.RequestURL
	if reqURL == "" {
		reqURL = b.RequestURL
	}
	clientID := ""
	if b.Flow.OAuth2Login != nil {
		clientID = b.Flow.OAuth2Login.Client.ClientID
	}
	var traits map[string]any
	identityID := ""
	if b.Identity != nil {
		traits, identityID = b.Identity.Traits, b.Identity.ID
	}
	email, _ := traits["email"].(string)
	field = "#/"

	switch trigger {
	case workflow.UserPreRegistration, workflow.PostAuthentication:
		req["ip"] = header(b.RequestHeaders, "True-Client-Ip")
		req["userAgent"] = header(b.RequestHeaders, "User-Agent")
		req["authUrlParams"] = authURLParams(reqURL)
		ctx["application"] = map[string]any{"clientId": clientID}
		ctx["domains"] = map[string]any{"kindeDomain": host(reqURL)}
		auth := map[string]any{"connectionId": b.Flow.Active}
		if trigger == workflow.UserPreRegistration {
			// Kinde has no user yet; the traits being registered are what a
			// registration check needs, so they come along.
			ctx["user"] = map[string]any{"email": email, "traits": orEmpty(traits)}
			if email != "" {
				field = "#/traits/email"
			}
		} else {
			ctx["user"] = map[string]any{"id": identityID, "email": email}
			auth["isNewUserRecordCreated"] = false
			auth["provider"] = b.Flow.Active
		}
		ctx["auth"] = auth
	case workflow.NewPasswordProvided:
		field = "#/password"
		pw, _ := b.Flow.TransientPayload["password"].(string)
		if pw == "" {
			return nil, field, missingPassword{}
		}
		reason := "reset"
		if hook == "registration-password" {
			reason = "initial"
		}
		ctx["auth"] = map[string]any{"firstPassword": pw, "secondPassword": pw, "newPasswordReason": reason}
		ctx["user"] = map[string]any{"id": identityID, "email": email}
	}
	event, err = json.Marshal(map[string]any{"request": req, "context": ctx})
	return event, field, err
}

// widgetFields are Kinde's password widget fields; Kratos' settings form
// has one password field, so they all land on it.
var widgetFields = map[string]string{
	"p_password":        "#/password",
	"p_first_password":  "#/password",
	"p_second_password": "#/password",
	"p_username":        "#/traits/username",
}

func refuseFields(w http.ResponseWriter, fields map[string]string) {
	byPtr := map[string][]Message{}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names) // the same answer for the same Result
	for _, name := range names {
		ptr, ok := widgetFields[name]
		if !ok {
			ptr = "#/"
		}
		byPtr[ptr] = append(byPtr[ptr], message(fields[name]))
	}
	var out Messages
	ptrs := make([]string, 0, len(byPtr))
	for p := range byPtr {
		ptrs = append(ptrs, p)
	}
	sort.Strings(ptrs)
	for _, p := range ptrs {
		out.Messages = append(out.Messages, FieldMessages{InstancePtr: p, Messages: byPtr[p]})
	}
	httpjson.Write(w, StatusDenied, out)
}

func refuse(w http.ResponseWriter, status int, ptr, text string) {
	httpjson.Write(w, status, Messages{Messages: []FieldMessages{{InstancePtr: ptr, Messages: []Message{message(text)}}}})
}

func message(text string) Message {
	return Message{ID: msgValidationGeneric, Text: text, Type: "error", Context: map[string]any{"reason": text}}
}

func header(h map[string][]string, name string) string {
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == name && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// authURLParams are the query parameters of the URL that started the flow,
// under Kinde's names where there is one.
func authURLParams(raw string) map[string]any {
	out := map[string]any{}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	names := map[string]string{"client_id": "clientId", "redirect_uri": "redirectUri", "state": "state", "org_code": "orgCode", "return_to": "returnTo"}
	for k, v := range u.Query() {
		if n, ok := names[k]; ok && len(v) > 0 {
			out[n] = v[0]
		}
	}
	return out
}

func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
