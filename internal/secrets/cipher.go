// Package secrets protects what Flowgate keeps secret: environment-variable
// values encrypted at rest under a master key, per-workflow encryption keys,
// hashed preview passwords with rate-limited checks, and bearer tokens.
//
// Nothing here logs; values of type Value render as "[REDACTED]".
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Cipher seals and opens small secrets. aad (additional authenticated
// data) binds a ciphertext to its place, e.g. "env/<id>/<name>": a value
// copied to another row fails to open. A KMS-backed implementation can
// satisfy the same interface (envelope encryption per value).
type Cipher interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(ciphertext, aad []byte) ([]byte, error)
}

// KeySize is the size of a master key and of a workflow encryption key.
const KeySize = 32

// Ciphertext format, version 1:
//
//	0x01 | key id (4 bytes) | nonce (12 bytes) | AES-256-GCM(ciphertext || tag 16 bytes)
//
// The header (version and key id) is authenticated together with aad. The
// key id names the master key (a hash of it, revealing nothing), so that
// after a rotation old values still open under the previous key.
const (
	formatV1    = 0x01
	keyIDSize   = 4
	nonceSize   = 12
	tagSize     = 16
	headerSize  = 1 + keyIDSize
	overheadV1  = headerSize + nonceSize + tagSize
	maxSealSize = 1 << 20
)

var (
	// ErrDecrypt: the ciphertext is damaged, was sealed with another aad, or
	// under a key this Cipher does not hold. Deliberately one error: the
	// caller learns nothing more than "it does not open".
	ErrDecrypt = errors.New("secret does not decrypt: damaged, moved, or sealed under another key")
	// ErrUnknownFormat: the ciphertext's version byte is not one we write.
	ErrUnknownFormat = errors.New("secret ciphertext: unknown format version")
)

type aesKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// Keyring is an AES-256-GCM Cipher: it seals under its first key and
// opens under any of its keys, chosen by the key id in the ciphertext.
type Keyring struct {
	keys []aesKey
	sub  []byte // keys Subkey, derived from the primary key
}

var _ Cipher = (*Keyring)(nil)

// NewKeyring returns a Cipher sealing under primary and also opening what
// was sealed under previous keys (for rotation).
func NewKeyring(primary []byte, previous ...[]byte) (*Keyring, error) {
	k := &Keyring{}
	for i, raw := range append([][]byte{primary}, previous...) {
		key, err := newAESKey(raw)
		if err != nil {
			return nil, fmt.Errorf("master key %d: %w", i, err)
		}
		for _, other := range k.keys {
			if other.id == key.id {
				return nil, fmt.Errorf("master key %d: duplicate key", i)
			}
		}
		k.keys = append(k.keys, key)
	}
	k.sub = hmacSHA256(primary, []byte("flowgate subkeys v1"))
	return k, nil
}

func newAESKey(raw []byte) (aesKey, error) {
	if len(raw) != KeySize {
		return aesKey{}, fmt.Errorf("want %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return aesKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return aesKey{}, err
	}
	return aesKey{id: keyID(raw), aead: aead}, nil
}

func keyID(raw []byte) [keyIDSize]byte {
	h := sha256.New()
	h.Write([]byte("flowgate master key id v1\x00"))
	h.Write(raw)
	var id [keyIDSize]byte
	copy(id[:], h.Sum(nil))
	return id
}

// Seal implements Cipher with a fresh random nonce per value.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	if len(k.keys) == 0 {
		return nil, errors.New("seal secret: keyring has no key (use NewKeyring or LoadMasterKey)")
	}
	if len(plaintext) > maxSealSize {
		return nil, fmt.Errorf("seal secret: %d bytes, limit %d", len(plaintext), maxSealSize)
	}
	key := k.keys[0]
	out := make([]byte, headerSize+nonceSize, overheadV1+len(plaintext))
	out[0] = formatV1
	copy(out[1:headerSize], key.id[:])
	nonce := out[headerSize : headerSize+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal secret: nonce: %w", err)
	}
	return key.aead.Seal(out, nonce, plaintext, authData(out[:headerSize], aad)), nil
}

// Open implements Cipher.
func (k *Keyring) Open(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) == 0 || ciphertext[0] != formatV1 {
		return nil, ErrUnknownFormat
	}
	if len(ciphertext) < overheadV1 {
		return nil, ErrDecrypt
	}
	var id [keyIDSize]byte
	copy(id[:], ciphertext[1:headerSize])
	for _, key := range k.keys {
		if key.id != id {
			continue
		}
		nonce := ciphertext[headerSize : headerSize+nonceSize]
		plain, err := key.aead.Open(nil, nonce, ciphertext[headerSize+nonceSize:], authData(ciphertext[:headerSize], aad))
		if err != nil {
			return nil, ErrDecrypt
		}
		return plain, nil
	}
	return nil, ErrDecrypt
}

// NeedsRotation reports whether ciphertext was sealed under a key other than
// the primary one (re-seal it to finish a rotation).
func (k *Keyring) NeedsRotation(ciphertext []byte) bool {
	if len(k.keys) == 0 || len(ciphertext) < headerSize || ciphertext[0] != formatV1 {
		return true
	}
	return string(ciphertext[1:headerSize]) != string(k.keys[0].id[:])
}

// authData is header || aad; the header has a fixed length, so the
// concatenation is unambiguous.
func authData(header, aad []byte) []byte {
	out := make([]byte, 0, len(header)+len(aad))
	return append(append(out, header...), aad...)
}
