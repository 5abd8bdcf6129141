package bindings

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// EC keys in a JWKS: a valid point parses; a point off the curve (an
// invalid-curve attack) or an oversized coordinate is not a usable key.
func TestParseJWKSECKeys(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := priv.PublicKey.Bytes() // 0x04 ‖ X ‖ Y
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	x, y := raw[1:33], raw[33:]
	offCurve := new(big.Int).Add(new(big.Int).SetBytes(y), big.NewInt(1)).FillBytes(make([]byte, 32))
	jwk := func(x, y []byte) []byte {
		return fmt.Appendf(nil, `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":%q,"y":%q}]}`, enc(x), enc(y))
	}

	keys, err := parseJWKS(jwk(x, y))
	if err != nil || len(keys) != 1 {
		t.Fatalf("valid P-256 key: %v, %d keys", err, len(keys))
	}
	if pub, ok := keys[0].pub.(*ecdsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) || keys[0].kid != "k1" {
		t.Fatalf("parsed key %+v does not match the generated one", keys[0])
	}

	for name, bad := range map[string][]byte{
		"point off the curve": jwk(x, offCurve),
		"oversized x":         jwk(append([]byte{1}, x...), y),
	} {
		if _, err := parseJWKS(bad); err == nil || !strings.Contains(err.Error(), "no usable") {
			t.Errorf("%s: err = %v, want no usable keys", name, err)
		}
	}
}
