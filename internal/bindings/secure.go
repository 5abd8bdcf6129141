package bindings

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// Layout sizes of a sealed secureFetch body (docs/coming-from-kinde.md).
const (
	nonceSize = 12
	tagSize   = 16
)

// SealBody encrypts plaintext with AES-256-GCM under key (32 bytes), a
// random 12-byte nonce and no additional data, and returns standard
// Base64 of nonce ‖ tag ‖ ciphertext — the layout Kinde documents. Go's
// GCM appends the tag to the ciphertext, so it is moved to the front.
func SealBody(key, plaintext []byte) (string, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("random nonce: %w", err)
	}
	sealed := gcm.Seal(nil, nonce, plaintext, nil) // ciphertext ‖ tag
	ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]
	out := make([]byte, 0, nonceSize+len(sealed))
	out = append(append(append(out, nonce...), tag...), ct...)
	return base64.StdEncoding.EncodeToString(out), nil
}

// OpenBody reverses SealBody: what a receiver of secureFetch does.
func OpenBody(key []byte, body string) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("body is not standard Base64: %w", err)
	}
	if len(raw) < nonceSize+tagSize {
		return nil, errors.New("body is shorter than nonce and tag")
	}
	nonce, tag, ct := raw[:nonceSize], raw[nonceSize:nonceSize+tagSize], raw[nonceSize+tagSize:]
	return gcm.Open(nil, nonce, append(append([]byte{}, ct...), tag...), nil)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the encryption key must be 32 bytes (AES-256), got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
