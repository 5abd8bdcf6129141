package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
)

// TokenPrefix starts every generated token, so secret scanners and people
// can recognise a leaked one.
const TokenPrefix = "fgt_"

// GenerateToken returns a random bearer token: "fgt_" and 32 random bytes
// in unpadded URL-safe Base64.
func GenerateToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// CompareToken reports whether presented equals expected, in time that does
// not depend on where they differ nor on their lengths (both are hashed
// first). An empty expected token matches nothing.
func CompareToken(presented, expected string) bool {
	if expected == "" {
		return false
	}
	a := sha256.Sum256([]byte(presented))
	b := sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// Redacted is what a Value shows instead of itself.
const Redacted = "[REDACTED]"

// Value holds a secret string that must not be printed: fmt, slog and
// encoding/json all render it as "[REDACTED]". Use Reveal where the value is
// really needed (e.g. handing it to the sandbox).
type Value string

// Reveal returns the secret itself.
func (v Value) Reveal() string { return string(v) }

// String implements fmt.Stringer.
func (Value) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v).
func (Value) GoString() string { return Redacted }

// LogValue implements slog.LogValuer.
func (Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON never emits the secret.
func (Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText never emits the secret.
func (Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
