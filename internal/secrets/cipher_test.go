package secrets

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k, err := NewKeyring(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		plain, aad []byte
	}{
		{"value", []byte("sk_live_123"), []byte("env/production/STRIPE_KEY")},
		{"empty value", []byte{}, []byte("env/x")},
		{"no aad", []byte("v"), nil},
		{"binary", []byte{0, 255, 0, 1}, []byte{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct, err := k.Seal(tc.plain, tc.aad)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.plain) > 3 && bytes.Contains(ct, tc.plain) {
				t.Fatal("ciphertext contains the plaintext")
			}
			got, err := k.Open(ct, tc.aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.plain) {
				t.Fatalf("Open = %q, want %q", got, tc.plain)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	k, _ := NewKeyring(newKey(t))
	a, _ := k.Seal([]byte("same"), nil)
	b, _ := k.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("sealing the same value twice gave the same ciphertext")
	}
}

func TestOpenRefuses(t *testing.T) {
	key := newKey(t)
	k, _ := NewKeyring(key)
	ct, err := k.Seal([]byte("secret value"), []byte("env/1/A"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewKeyring(newKey(t))
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	for _, tc := range []struct {
		name   string
		cipher *Keyring
		ct     []byte
		aad    []byte
		want   error
	}{
		{"wrong aad", k, ct, []byte("env/1/B"), ErrDecrypt},
		{"missing aad", k, ct, nil, ErrDecrypt},
		{"other key", other, ct, []byte("env/1/A"), ErrDecrypt},
		{"tampered key id", k, flip(1), []byte("env/1/A"), ErrDecrypt},
		{"tampered nonce", k, flip(headerSize), []byte("env/1/A"), ErrDecrypt},
		{"tampered body", k, flip(headerSize + nonceSize), []byte("env/1/A"), ErrDecrypt},
		{"tampered tag", k, flip(len(ct) - 1), []byte("env/1/A"), ErrDecrypt},
		{"truncated", k, ct[:len(ct)-1], []byte("env/1/A"), ErrDecrypt},
		{"header only", k, ct[:headerSize], []byte("env/1/A"), ErrDecrypt},
		{"unknown version", k, flip(0), []byte("env/1/A"), ErrUnknownFormat},
		{"empty", k, nil, nil, ErrUnknownFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cipher.Open(tc.ct, tc.aad)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("Open = %q, %v; want nil, %v", got, err, tc.want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := newKey(t), newKey(t)
	old, _ := NewKeyring(oldKey)
	ct, _ := old.Seal([]byte("v"), []byte("a"))

	rotated, err := NewKeyring(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(ct, []byte("a")); err != nil || string(got) != "v" {
		t.Fatalf("old ciphertext under the rotated keyring = %q, %v", got, err)
	}
	if !rotated.NeedsRotation(ct) {
		t.Fatal("old ciphertext does not report NeedsRotation")
	}
	resealed, _ := rotated.Seal([]byte("v"), []byte("a"))
	if rotated.NeedsRotation(resealed) {
		t.Fatal("fresh ciphertext reports NeedsRotation")
	}
	if _, err := old.Open(resealed, []byte("a")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("new ciphertext opened under the old key alone: %v", err)
	}
}

func TestNewKeyringRefuses(t *testing.T) {
	k := newKey(t)
	for name, keys := range map[string][][]byte{
		"short":     {k[:16]},
		"long":      {append(bytes.Clone(k), 0)},
		"empty":     {nil},
		"duplicate": {k, bytes.Clone(k)},
	} {
		if _, err := NewKeyring(keys[0], keys[1:]...); err == nil {
			t.Errorf("%s: NewKeyring accepted it", name)
		}
	}
}

func TestSealSizeLimit(t *testing.T) {
	k, _ := NewKeyring(newKey(t))
	if _, err := k.Seal(make([]byte, maxSealSize+1), nil); err == nil {
		t.Fatal("Seal accepted a value above the limit")
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := NewKeyring(bytes.Repeat([]byte{7}, KeySize))
	ct, _ := k.Seal([]byte("value"), []byte("aad"))
	f.Add(ct, []byte("aad"))
	f.Add([]byte{formatV1}, []byte(nil))
	f.Fuzz(func(t *testing.T, ct, aad []byte) {
		plain, err := k.Open(ct, aad)
		if err == nil {
			// Anything that opens must be an authentic seal: re-open it.
			if again, err := k.Open(ct, aad); err != nil || !bytes.Equal(again, plain) {
				t.Fatalf("Open is not deterministic: %v", err)
			}
		} else if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrUnknownFormat) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func TestZeroKeyringRefuses(t *testing.T) {
	var k Keyring
	if _, err := k.Seal([]byte("v"), nil); err == nil {
		t.Fatal("a keyring without a key sealed a value")
	}
	if _, err := k.Open([]byte{formatV1, 0, 0, 0, 0}, nil); err == nil {
		t.Fatal("a keyring without a key opened a value")
	}
}
