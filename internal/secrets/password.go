package secrets

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for preview passwords: OWASP's minimum profile
// (19 MiB, 2 passes, 1 lane). Failed checks are also rate-limited (Limiter).
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16

	// MaxPasswordBytes bounds what is hashed.
	MaxPasswordBytes = 1024

	// Bounds on parameters read from a stored hash, so a damaged or
	// hostile hash cannot make a check take unbounded memory or time.
	maxMemoryKiB = 256 * 1024
	maxTime      = 10
	maxThreads   = 16
)

// HashPreviewPassword returns an Argon2id hash of pw in the PHC string
// format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPreviewPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("preview password: empty")
	}
	if len(pw) > MaxPasswordBytes {
		return "", fmt.Errorf("preview password: longer than %d bytes", MaxPasswordBytes)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("preview password: salt: %w", err)
	}
	sum := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(sum)), nil
}

// CheckPreviewPassword reports whether pw matches hash, comparing in
// constant time. A malformed hash never matches.
func CheckPreviewPassword(hash, pw string) bool {
	p, err := parseArgon2id(hash)
	if err != nil || pw == "" || len(pw) > MaxPasswordBytes {
		return false
	}
	sum := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.sum)))
	return subtle.ConstantTimeCompare(sum, p.sum) == 1
}

type argonParams struct {
	memory, time uint32
	threads      uint8
	salt, sum    []byte
}

func parseArgon2id(hash string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, errors.New("not an argon2id hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, errors.New("unsupported argon2 version")
	}
	for _, kv := range strings.Split(parts[3], ",") {
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return p, errors.New("malformed parameters")
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return p, errors.New("malformed parameters")
		}
		switch name {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return p, errors.New("parameters out of range")
			}
			p.threads = uint8(n)
		default:
			return p, errors.New("unknown parameter")
		}
	}
	if p.memory < 8*uint32(p.threads) || p.memory > maxMemoryKiB || p.time < 1 || p.time > maxTime ||
		p.threads < 1 || p.threads > maxThreads {
		return p, errors.New("parameters out of range")
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 || len(p.salt) > 64 {
		return p, errors.New("malformed salt")
	}
	if p.sum, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.sum) < 16 || len(p.sum) > 64 {
		return p, errors.New("malformed hash")
	}
	return p, nil
}
