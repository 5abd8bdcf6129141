package bindings

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// jwt is a compact JWS split into its parts. Only what the cache needs is
// decoded: the header's alg and kid and the payload's exp.
type jwt struct {
	alg, kid     string
	exp          time.Time // zero when the token has no exp
	signingInput string
	sig          []byte
}

// parseJWT splits and decodes a compact JWT (header.payload.signature).
func parseJWT(token string) (*jwt, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT: want three dot-separated parts")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("JWT header: %w", err)
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("JWT signature: %w", err)
	}
	t := &jwt{alg: header.Alg, kid: header.Kid, signingInput: parts[0] + "." + parts[1], sig: sig}
	if claims.Exp != nil {
		f, err := claims.Exp.Float64()
		if err != nil || f < 0 || f > 1e11 {
			return nil, errors.New("JWT payload: exp is not a valid time")
		}
		t.exp = time.Unix(int64(f), 0)
	}
	return t, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(v)
}

// verifyKey is one key a token may be signed with.
type verifyKey struct {
	kid string
	pub crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey, or []byte for HMAC
}

// verify checks t's signature with one of keys. The algorithm must match
// the key type, so an HS256 token cannot be "verified" with an RSA public
// key used as an HMAC secret, and alg "none" never verifies.
func (t *jwt) verify(keys []verifyKey) error {
	for _, k := range keys {
		if t.kid != "" && k.kid != "" && t.kid != k.kid {
			continue
		}
		if t.verifyWith(k.pub) {
			return nil
		}
	}
	return fmt.Errorf("signature does not verify (alg %q, kid %q)", t.alg, t.kid)
}

func (t *jwt) verifyWith(pub crypto.PublicKey) bool {
	var h crypto.Hash
	switch t.alg {
	case "RS256", "ES256", "HS256":
		h = crypto.SHA256
	case "RS384", "ES384":
		h = crypto.SHA384
	case "RS512":
		h = crypto.SHA512
	default:
		return false
	}
	digest := hashOf(h, t.signingInput)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(t.alg, "RS") && rsa.VerifyPKCS1v15(k, h, digest, t.sig) == nil
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if !strings.HasPrefix(t.alg, "ES") || len(t.sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(t.sig[:size]), new(big.Int).SetBytes(t.sig[size:])
		return ecdsa.Verify(k, digest, r, s)
	case []byte:
		if t.alg != "HS256" {
			return false
		}
		m := hmac.New(sha256.New, k)
		m.Write([]byte(t.signingInput))
		return hmac.Equal(m.Sum(nil), t.sig)
	}
	return false
}

func hashOf(h crypto.Hash, s string) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384([]byte(s))
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512([]byte(s))
		return d[:]
	}
	d := sha256.Sum256([]byte(s))
	return d[:]
}
