// Package hydra is the adapter for Ory Hydra's token hook
// (oauth2.token_hook): Hydra posts the session and the token request
// before it issues tokens, the adapter runs the environment's live
// user:tokens_generation (authorization code, refresh, …) or
// m2m:token_generation (client credentials) workflow, and answers in the
// hook's format.
//
// The contract is Hydra v2.3.0's oauth2/token_hook.go:
//   - request:  {"session": {"extra": {…}, "id_token": {"id_token_claims": {"ext": {…}, …}, "subject": …}, "client_id": …},
//     "request": {"client_id", "requested_scopes", "granted_scopes", "granted_audience", "grant_types", "payload"}}
//   - 200 {"session": {"access_token": {…}, "id_token": {…}}} replaces the
//     access token's extra claims and the ID token's extra claims;
//   - 204 keeps them as they are;
//   - 403 makes Hydra refuse with access_denied, any other status with
//     server_error. Hydra retries 5xx and connection errors twice, so a
//     deliberate refusal is never a 5xx.
package hydra

import (
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"github.com/flowgate/flowgate/internal/adapters"
	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Path is where the hook is mounted (the server prefixes nothing).
const Path = "POST /api/v1/environments/{env}/adapters/hydra/token-hook"

// StatusFailed is the answer for a failed workflow whose policy is stop:
// not 403 (that is a denial) and not 5xx (Hydra would retry it).
const StatusFailed = http.StatusFailedDependency

// Trigger names.
const (
	triggerUser = workflow.UserTokenGeneration
	triggerM2M  = workflow.M2MTokenGeneration
)

// HookRequest is the body Hydra posts (the fields the adapter reads).
type HookRequest struct {
	Session struct {
		Extra   map[string]any `json:"extra"`
		IDToken *struct {
			Claims *struct {
				Ext map[string]any `json:"ext"`
			} `json:"id_token_claims"`
			Subject string `json:"subject"`
		} `json:"id_token"`
		ClientID string `json:"client_id"`
	} `json:"session"`
	Request struct {
		ClientID        string   `json:"client_id"`
		RequestedScopes []string `json:"requested_scopes"`
		GrantedScopes   []string `json:"granted_scopes"`
		GrantedAudience []string `json:"granted_audience"`
		GrantTypes      []string `json:"grant_types"`
	} `json:"request"`
}

// HookResponse is the 200 answer: the claims Hydra puts on the tokens.
type HookResponse struct {
	Session struct {
		AccessToken map[string]any `json:"access_token"`
		IDToken     map[string]any `json:"id_token"`
	} `json:"session"`
}

// Handler serves the token hook for rt.
type Handler struct {
	rt  adapters.Runtime
	log *slog.Logger
}

// New returns the token-hook handler.
func New(rt adapters.Runtime, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{rt: rt, log: log}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env := r.PathValue("env")
	opts, body, ok := adapters.Accept(w, r, h.rt, h.log, env)
	if !ok {
		return
	}
	var req HookRequest
	if err := json.Unmarshal(body, &req); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_hook_body", "the body is not Hydra's token hook request: "+err.Error())
		return
	}
	trigger, event := Event(&req)
	out := adapters.Run(r.Context(), h.rt, h.log, env, trigger, event, opts)
	h.answer(w, &req, trigger, out)
}

// Event maps Hydra's request to a trigger and its Kinde-shaped event.
func Event(req *HookRequest) (trigger string, event []byte) {
	q := &req.Request
	clientID := q.ClientID
	if clientID == "" {
		clientID = req.Session.ClientID
	}
	audience := nonNil(q.GrantedAudience)
	// Hydra calls the hook before it grants the token's scopes on the
	// token request (granted_scopes is empty for an authorization code):
	// the scopes asked for at /oauth2/auth are then the best answer.
	scope := q.GrantedScopes
	if len(scope) == 0 {
		scope = q.RequestedScopes
	}
	scope = nonNil(scope)
	var ev map[string]any
	if slices.Contains(q.GrantTypes, "client_credentials") {
		trigger = triggerM2M
		ev = map[string]any{
			"request": map[string]any{"auth": map[string]any{"audience": audience, "scope": scope}},
			"context": map[string]any{
				"workflow":    map[string]any{"trigger": trigger},
				"application": map[string]any{"clientId": clientID},
			},
		}
	} else {
		trigger = triggerUser
		subject := ""
		if req.Session.IDToken != nil {
			subject = req.Session.IDToken.Subject
		}
		origin := ""
		if len(q.GrantTypes) > 0 {
			origin = q.GrantTypes[0]
		}
		ev = map[string]any{
			"request": map[string]any{"auth": map[string]any{"audience": audience, "scope": scope}},
			"context": map[string]any{
				"workflow":    map[string]any{"trigger": trigger},
				"user":        map[string]any{"id": subject},
				"auth":        map[string]any{"origin": origin, "isExistingSession": origin == "refresh_token"},
				"application": map[string]any{"clientId": clientID},
			},
		}
	}
	b, _ := json.Marshal(ev) // maps of strings and string slices always encode
	return trigger, b
}

func (h *Handler) answer(w http.ResponseWriter, req *HookRequest, trigger string, out adapters.Outcome) {
	switch out.Verdict {
	case adapters.Deny:
		httpjson.Error(w, http.StatusForbidden, "access_denied", "the workflow denied access")
		return
	case adapters.Fail:
		httpjson.Error(w, StatusFailed, "workflow_failed", "the workflow failed and its failure policy is stop")
		return
	}
	res := out.Result
	if res == nil || res.Status != workflow.StatusSucceeded {
		w.WriteHeader(http.StatusNoContent) // skipped, or failed with policy continue
		return
	}
	access := res.AccessToken
	if trigger == triggerM2M {
		access = res.M2MToken
	}
	var idToken *workflow.Token
	if trigger == triggerUser {
		idToken = res.IDToken
	}
	if access == nil && idToken == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var resp HookResponse
	// Hydra replaces both claim sets with the answer, so what the consent
	// step set is kept unless the workflow reset it.
	resp.Session.AccessToken = merge(req.Session.Extra, access, nil)
	var idExt map[string]any
	if req.Session.IDToken != nil && req.Session.IDToken.Claims != nil {
		idExt = req.Session.IDToken.Claims.Ext
	}
	resp.Session.IDToken = merge(idExt, idToken, reservedIDClaims)
	if dropped := droppedClaims(idToken); len(dropped) > 0 {
		h.log.Warn("hydra adapter: ID token claims Hydra sets itself were not changed", "claims", dropped)
	}
	httpjson.Write(w, http.StatusOK, resp)
}

// reservedIDClaims are ID token claims Hydra sets itself; a workflow's
// value for one would be ignored or, worse, shadow Hydra's.
var reservedIDClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "nonce",
	"at_hash", "c_hash", "acr", "amr", "azp", "sid", "rat"}

// merge is base with t's claims over it (none of base when t resets the
// claims); t's claims named in reserved are left out.
func merge(base map[string]any, t *workflow.Token, reserved []string) map[string]any {
	out := map[string]any{}
	if t == nil || !t.ResetClaims {
		maps.Copy(out, base)
	}
	if t != nil {
		for k, v := range t.CustomClaims {
			if !slices.Contains(reserved, k) {
				out[k] = v
			}
		}
	}
	return out
}

func droppedClaims(t *workflow.Token) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, k := range reservedIDClaims {
		if _, ok := t.CustomClaims[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
