package secrets

import (
	"strings"
	"testing"
)

func TestPreviewPassword(t *testing.T) {
	hash, err := HashPreviewPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hash, "correct horse") || !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected hash form %q", hash)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse", true},
		{"correct horsE", false},
		{"correct horse ", false},
		{"", false},
		{strings.Repeat("x", MaxPasswordBytes+1), false},
	} {
		if got := CheckPreviewPassword(hash, tc.pw); got != tc.want {
			t.Errorf("CheckPreviewPassword(%.20q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
	again, _ := HashPreviewPassword("correct horse")
	if again == hash {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

func TestHashPreviewPasswordRefuses(t *testing.T) {
	for name, pw := range map[string]string{"empty": "", "too long": strings.Repeat("x", MaxPasswordBytes+1)} {
		if _, err := HashPreviewPassword(pw); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A damaged or hostile stored hash never matches and never makes a check
// expensive.
func TestCheckPreviewPasswordHostileHashes(t *testing.T) {
	good, _ := HashPreviewPassword("pw")
	parts := strings.Split(good, "$")
	salt, sum := parts[4], parts[5]
	for name, hash := range map[string]string{
		"empty":         "",
		"plaintext":     "pw",
		"argon2i":       "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + sum,
		"old version":   "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + sum,
		"huge memory":   "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + sum,
		"huge time":     "$argon2id$v=19$m=19456,t=100000,p=1$" + salt + "$" + sum,
		"zero time":     "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + sum,
		"zero threads":  "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + sum,
		"many threads":  "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + sum,
		"unknown param": "$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + sum,
		"negative":      "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + sum,
		"empty salt":    "$argon2id$v=19$m=19456,t=2,p=1$$" + sum,
		"empty sum":     "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"short sum":     "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAA",
		"bad base64":    "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$!!!!",
		"extra field":   good + "$x",
		"other salt":    "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + sum,
	} {
		if CheckPreviewPassword(hash, "pw") {
			t.Errorf("%s: matched", name)
		}
	}
	if !CheckPreviewPassword(good, "pw") {
		t.Fatal("the untouched hash does not match")
	}
}

func FuzzParseArgon2id(f *testing.F) {
	good, _ := HashPreviewPassword("pw")
	f.Add(good)
	f.Add("$argon2id$v=19$m=1,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, hash string) {
		p, err := parseArgon2id(hash)
		if err != nil {
			return
		}
		if p.memory > maxMemoryKiB || p.time > maxTime || p.threads > maxThreads || p.threads == 0 || len(p.sum) < 16 {
			t.Fatalf("parse accepted out-of-range parameters: %+v", p)
		}
	})
}
