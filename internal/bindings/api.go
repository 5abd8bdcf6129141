// Package bindings implements what a workflow sees besides the language:
// the kinde.* objects, console, URL and URLSearchParams. The runtime calls
// InstallGlobals once per goja runtime (before freezing it) and New once
// per invocation.
package bindings

import (
	"net/http"
	"time"

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
	// MapStack rewrites a stack trace's bundle positions into the original
	// source's (set by the runtime, which holds the source map); nil leaves
	// stacks as they are. console uses it for logged Error objects.
	MapStack func(stack string) string
}

// NetPolicy bounds outbound HTTP from workflows. The zero value refuses
// private, loopback, link-local and metadata addresses.
type NetPolicy struct {
	AllowHosts       []string      // host or host:port reachable even when private (dev/tests)
	Timeout          time.Duration // per request; default 10s
	MaxResponseBytes int64         // default 1 MiB
	MaxRequests      int           // per invocation; default 10
	// Transport, when set, is used instead of the guarded network (tests
	// and `flowgate test`, which answer requests from stubs). AllowHosts
	// and the address checks do not apply to it.
	Transport http.RoundTripper
}

// TokenCache (cache.go) caches JWTs per environment for kinde.cache.jwtToken.
// InstallGlobals (globals.go) defines URL and URLSearchParams once per runtime.
// Invocation and New (bindings.go) build one run's kinde and console objects.
