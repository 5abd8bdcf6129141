// Package bindings implements what a workflow sees besides the language:
// the kinde.* objects, console, URL and URLSearchParams. The runtime calls
// InstallGlobals once per goja runtime (before freezing it) and New once
// per invocation.
package bindings

import (
	"context"
	"time"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// EnvVar is one environment variable as kinde.env.get returns it.
type EnvVar struct {
	Value    string `json:"value"`
	IsSecret bool   `json:"isSecret"`
}

// Config is everything one invocation's bindings need from the host.
type Config struct {
	Settings workflow.Settings // trigger and declared bindings
	Env      map[string]EnvVar
	// EncryptionKey is the workflow's active AES-256 key; nil when none is active.
	EncryptionKey []byte
	// Net decides which hosts kinde.fetch/secureFetch may reach and with what limits.
	Net *NetPolicy
	// Cache is the environment's JWT cache for kinde.cache.jwtToken; nil disables caching.
	Cache *TokenCache
	// Localization answers kinde.localization.get.
	Localization map[string]string
	// Redact are extra values (the event's passwords) never to appear in logs or errors.
	Redact []string
}

// NetPolicy bounds outbound HTTP from workflows. The zero value refuses
// private, loopback, link-local and metadata addresses.
type NetPolicy struct {
	AllowHosts       []string      // host or host:port reachable even when private (dev/tests)
	Timeout          time.Duration // per request; default 10s
	MaxResponseBytes int64         // default 1 MiB
	MaxRequests      int           // per invocation; default 10
}

// TokenCache caches JWTs per environment for kinde.cache.jwtToken. Safe
// for concurrent use.
type TokenCache struct { /* implemented in cache.go */
}

// InstallGlobals defines the frozen, invocation-independent globals
// (URL, URLSearchParams) on vm. Called once per runtime.
func InstallGlobals(vm *goja.Runtime) error { panic("bindings: not implemented") }

// Invocation is one run's bindings: the kinde and console objects and the
// effects they record into the Result.
type Invocation struct { /* implemented in bindings.go */
}

// New builds the kinde and console objects for one invocation on vm. Every
// effect (claims, denials, logs…) is written into res. ctx bounds host calls
// such as fetch.
func New(ctx context.Context, vm *goja.Runtime, cfg *Config, res *workflow.Result) *Invocation {
	panic("bindings: not implemented")
}

// Kinde is the `kinde` object: declared bindings only, plus kinde.cache
// whenever kinde.fetch is declared.
func (inv *Invocation) Kinde() *goja.Object { panic("bindings: not implemented") }

// Console is the `console` object; lines are redacted and appended to res.Logs.
func (inv *Invocation) Console() *goja.Object { panic("bindings: not implemented") }

// Redact removes secret env values and Config.Redact values from s.
func (inv *Invocation) Redact(s string) string { panic("bindings: not implemented") }
