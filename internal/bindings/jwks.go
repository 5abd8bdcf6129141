package bindings

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// parseJWKS reads the RSA and EC (P-256, P-384) signing keys of a JWK set;
// other keys are skipped.
func parseJWKS(data []byte) ([]verifyKey, error) {
	var set struct {
		Keys []struct {
			Kty, Kid, Use, Crv, N, E, X, Y string
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS is not JSON: %w", err)
	}
	var keys []verifyKey
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch k.Kty {
		case "RSA":
			n, err1 := b64int(k.N)
			e, err2 := b64int(k.E)
			if err1 != nil || err2 != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31 || n.BitLen() < 1024 {
				continue
			}
			keys = append(keys, verifyKey{kid: k.Kid, pub: &rsa.PublicKey{N: n, E: int(e.Int64())}})
		case "EC":
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			default:
				continue
			}
			pub, err := ecKey(curve, k.X, k.Y)
			if err != nil {
				continue
			}
			keys = append(keys, verifyKey{kid: k.Kid, pub: pub})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable RSA or EC signing keys")
	}
	return keys, nil
}

// ecKey decodes a JWK's base64url coordinates into a public key; the
// standard library checks that the point is on the curve.
func ecKey(curve elliptic.Curve, x, y string) (*ecdsa.PublicKey, error) {
	size := (curve.Params().BitSize + 7) / 8
	xb, err1 := base64.RawURLEncoding.DecodeString(x)
	yb, err2 := base64.RawURLEncoding.DecodeString(y)
	if err1 != nil || err2 != nil || len(xb) == 0 || len(yb) == 0 || len(xb) > size || len(yb) > size {
		return nil, errors.New("bad EC coordinates")
	}
	point := make([]byte, 1+2*size) // uncompressed: 0x04 ‖ X ‖ Y, each left-padded
	point[0] = 4
	copy(point[1+size-len(xb):1+size], xb)
	copy(point[1+2*size-len(yb):], yb)
	return ecdsa.ParseUncompressedPublicKey(curve, point)
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad base64url integer")
	}
	return new(big.Int).SetBytes(b), nil
}
