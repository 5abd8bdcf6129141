package client

import (
	"sort"
	"strings"
)

// Event is a trigger's event, {request, context}, with the fields Kinde
// sends; set the ones that apply to the trigger (docs/workflows.md lists
// them) and leave the rest empty.
// Marshal your own type instead for fields not here.
type Event struct {
	Request Request `json:"request"`
	Context Context `json:"context"`
}

// Request describes the HTTP request that started the flow.
type Request struct {
	IP            string            `json:"ip,omitempty"`
	UserAgent     string            `json:"userAgent,omitempty"`
	Auth          *RequestAuth      `json:"auth,omitempty"`
	AuthURLParams map[string]string `json:"authUrlParams,omitempty"`
}

// RequestAuth is the token request: audience and scopes.
type RequestAuth struct {
	Audience []string `json:"audience"`
	Scope    []string `json:"scope,omitempty"`
}

// Context is what the auth server knows about the flow.
type Context struct {
	Workflow     *WorkflowInfo  `json:"workflow,omitempty"` // filled in by Trigger
	User         *User          `json:"user,omitempty"`
	Auth         *Auth          `json:"auth,omitempty"`
	Application  *Application   `json:"application,omitempty"`
	Organization *Organization  `json:"organization,omitempty"`
	Domains      *Domains       `json:"domains,omitempty"`
	MFA          map[string]any `json:"mfa,omitempty"`
	Billing      map[string]any `json:"billing,omitempty"`
}

// WorkflowInfo names the trigger.
type WorkflowInfo struct {
	Trigger string `json:"trigger"`
}

// User is the user the flow is about.
type User struct {
	ID         string `json:"id,omitempty"`
	IdentityID string `json:"identityId,omitempty"`
	Email      string `json:"email,omitempty"`
}

// Auth describes the authentication step. Password fields are redacted by
// Flowgate wherever a workflow would echo them.
type Auth struct {
	Origin                 string `json:"origin,omitempty"`
	ConnectionID           string `json:"connectionId,omitempty"`
	IsExistingSession      bool   `json:"isExistingSession,omitempty"`
	IsNewUserRecordCreated bool   `json:"isNewUserRecordCreated,omitempty"`
	Provider               string `json:"provider,omitempty"`
	Password               string `json:"password,omitempty"`
	HashedPassword         string `json:"hashedPassword,omitempty"`
	ProvidedEmail          string `json:"providedEmail,omitempty"`
	HasUserRecordInKinde   bool   `json:"hasUserRecordInKinde,omitempty"`
	FirstPassword          string `json:"firstPassword,omitempty"`
	SecondPassword         string `json:"secondPassword,omitempty"`
	NewPasswordReason      string `json:"newPasswordReason,omitempty"` // "initial" or "reset"
	SuppliedUsername       string `json:"suppliedUsername,omitempty"`
}

// Application is the OAuth client the flow is for.
type Application struct {
	ClientID string `json:"clientId"`
}

// Organization is the organization the user signs in to.
type Organization struct {
	Code string `json:"code"`
}

// Domains are the auth server's domains.
type Domains struct {
	KindeDomain string `json:"kindeDomain"`
}

// Result is what one invocation produced (Flowgate's runtime API answer).
type Result struct {
	WorkflowID    string  `json:"workflowId,omitempty"`
	Trigger       string  `json:"trigger,omitempty"`
	Status        string  `json:"status"`
	FailurePolicy string  `json:"failurePolicy,omitempty"`
	Error         *Error  `json:"error,omitempty"`
	AccessToken   *Token  `json:"accessToken,omitempty"`
	IDToken       *Token  `json:"idToken,omitempty"`
	M2MToken      *Token  `json:"m2mToken,omitempty"`
	Auth          *Denial `json:"auth,omitempty"`
	MFA           *MFA    `json:"mfa,omitempty"`
	Plan          *Plan   `json:"plan,omitempty"`
	Widget        *Widget `json:"widget,omitempty"`
	Logs          []Log   `json:"logs,omitempty"`
	DurationMs    float64 `json:"durationMs"`
}

// Error says why a workflow failed (kinds: docs/error-kinds.md, plus
// KindUnavailable).
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

// Token holds the claims a workflow set on one token.
type Token struct {
	CustomClaims map[string]any `json:"customClaims"`
	ResetClaims  bool           `json:"resetClaims,omitempty"`
}

// Denial records kinde.auth.denyAccess.
type Denial struct {
	Denied bool   `json:"denied"`
	Reason string `json:"reason,omitempty"`
}

// MFA records kinde.mfa.setEnforcementPolicy.
type MFA struct {
	EnforcementPolicy string `json:"enforcementPolicy"`
}

// Plan records kinde.plan denials.
type Plan struct {
	DenySelection *struct {
		Message string   `json:"message"`
		Reasons []string `json:"reasons"`
	} `json:"denySelection,omitempty"`
	DenyCancellation *struct {
		Reason string `json:"reason"`
	} `json:"denyCancellation,omitempty"`
}

// Widget records kinde.widget.invalidateFormField.
type Widget struct {
	InvalidFormFields map[string]string `json:"invalidFormFields"`
}

// Log is one console line of the workflow (already redacted).
type Log struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Decision is what the auth server must do with a Result.
type Decision struct {
	// Allow says the flow goes on. When false, show Message (and
	// FieldErrors on their fields) and stop the flow.
	Allow   bool
	Message string
	// FieldErrors are form-field messages by Kinde widget field name
	// (p_password, p_first_password, p_second_password, p_username).
	FieldErrors map[string]string
	// Claims to add to the tokens being issued (nil when none). Reset says
	// to drop the claims the token would otherwise carry first.
	AccessTokenClaims, IDTokenClaims, M2MTokenClaims map[string]any
	ResetAccessToken, ResetIDToken, ResetM2MToken    bool
	// MFA is the enforcement policy a user:pre_mfa workflow set ("" for none).
	MFA string
	// Failed says the workflow failed or Flowgate was unavailable; Allow is
	// then what the failure policy decided.
	Failed bool
}

// FailedMessage is shown when a failed workflow's policy stops the flow:
// the error itself is for the logs, not for the user.
const FailedMessage = "This cannot be completed right now. Please try again later."

// Decide turns the Result into the auth server's decision: a skipped
// trigger allows; a failed workflow allows only when its failurePolicy is
// continue (and then changes nothing); a denial, a plan denial or a form
// field error refuses; otherwise the claims are to be added.
func (r *Result) Decide() Decision {
	if r == nil {
		return Decision{Allow: false, Failed: true, Message: FailedMessage}
	}
	switch r.Status {
	case StatusSkipped:
		return Decision{Allow: true}
	case StatusFailed:
		if r.FailurePolicy == PolicyContinue {
			return Decision{Allow: true, Failed: true}
		}
		return Decision{Allow: false, Failed: true, Message: FailedMessage}
	case StatusSucceeded:
	default:
		return Decision{Allow: false, Failed: true, Message: FailedMessage}
	}
	d := Decision{Allow: true}
	if r.Auth != nil && r.Auth.Denied {
		d.Allow = false
		d.Message = r.Auth.Reason
		if d.Message == "" {
			d.Message = "Access denied."
		}
	}
	if r.Plan != nil {
		if s := r.Plan.DenySelection; s != nil {
			d.Allow, d.Message = false, s.Message
		}
		if c := r.Plan.DenyCancellation; c != nil {
			d.Allow, d.Message = false, c.Reason
		}
	}
	if r.Widget != nil && len(r.Widget.InvalidFormFields) > 0 {
		d.Allow = false
		d.FieldErrors = r.Widget.InvalidFormFields
		if d.Message == "" {
			names := make([]string, 0, len(d.FieldErrors))
			for n := range d.FieldErrors {
				names = append(names, n)
			}
			sort.Strings(names)
			msgs := make([]string, 0, len(names))
			for _, n := range names {
				msgs = append(msgs, d.FieldErrors[n])
			}
			d.Message = strings.Join(msgs, " ")
		}
	}
	if r.MFA != nil {
		d.MFA = r.MFA.EnforcementPolicy
	}
	if !d.Allow {
		return d
	}
	if t := r.AccessToken; t != nil {
		d.AccessTokenClaims, d.ResetAccessToken = t.CustomClaims, t.ResetClaims
	}
	if t := r.IDToken; t != nil {
		d.IDTokenClaims, d.ResetIDToken = t.CustomClaims, t.ResetClaims
	}
	if t := r.M2MToken; t != nil {
		d.M2MTokenClaims, d.ResetM2MToken = t.CustomClaims, t.ResetClaims
	}
	return d
}
