package secrets

import (
	"crypto/hmac"
	"crypto/sha256"
)

// KeyDeriver derives keys for other purposes from the master key (such as
// the console's session-signing key), so that they are as hard to guess as
// the master key and every replica holding it derives the same ones.
type KeyDeriver interface {
	Subkey(purpose string) []byte
}

var _ KeyDeriver = (*Keyring)(nil)

// Subkey is a 32-byte key for purpose, derived from the primary master key
// (a rotation changes it); it reveals nothing about the master key.
func (k *Keyring) Subkey(purpose string) []byte {
	return hmacSHA256(k.sub, []byte(purpose))
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
