// Package bindings implements what a workflow sees besides the language:
// the kinde.* objects, console, URL and URLSearchParams. The runtime calls
// InstallGlobals once per goja runtime (before freezing it) and New once
// per invocation.
package bindings

import (
	"github.com/flowgate/flowgate/internal/outbound"
	"github.com/flowgate/flowgate/internal/workflow"
)

// EnvVar is one environment variable as kinde.env.get returns it.
type EnvVar = workflow.EnvVar

// Config is everything one invocation's bindings need from the host.
type Config struct {
	Settings workflow.Settings // trigger and declared bindings
	Env      map[string]EnvVar
	// EncryptionKey is the workflow's active AES-256 key; nil when none is active.
	EncryptionKey []byte
	// EncryptionKeyError, when set, is why the active key could not be
	// provided: kinde.secureFetch throws it.
	EncryptionKeyError string
	// Net decides which hosts kinde.fetch/secureFetch may reach and with what limits.
	Net *NetPolicy
	// Clients is the process's owner of guarded HTTP clients (bounded,
	// closed by whoever made it); nil makes a client per request with no
	// connection reuse.
	Clients *outbound.Clients
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

// NetPolicy bounds outbound HTTP from workflows (outbound.Policy): the
// zero value refuses every special-purpose address and the host's own,
// with a 10 s timeout, 1 MiB responses and 10 requests per run — JWKS
// fetches included.
type NetPolicy = outbound.Policy

// TokenCache (cache.go) caches JWTs per environment for kinde.cache.jwtToken.
// InstallGlobals (globals.go) defines URL and URLSearchParams once per runtime.
// Invocation and New (bindings.go) build one run's kinde and console objects.
