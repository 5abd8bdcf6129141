package bindings

import (
	"testing"
)

// FuzzParseJWT: outside tokens never panic the parser or the verifier.
func FuzzParseJWT(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln")
	f.Add("a.b.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		j, err := parseJWT(tok)
		if err != nil {
			return
		}
		_ = j.verify([]verifyKey{{pub: []byte("k")}})
	})
}
