package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeyFile is the name of the generated development key in the data
// directory.
const MasterKeyFile = "master.key"

// LoadMasterKey returns the Cipher for secrets at rest.
//
// envValue is FLOWGATE_MASTER_KEY: a Base64 32-byte key, or for rotation a
// comma-separated list "new,old,...": values are sealed under the first and
// opened under any. When envValue is empty the key lives in
// <dataDir>/master.key (Base64, mode 0600), generated on first use; a key
// file readable or writable by group or others is refused, as is a symlink.
func LoadMasterKey(envValue, dataDir string) (Cipher, error) {
	if strings.TrimSpace(envValue) != "" {
		var keys [][]byte
		for i, part := range strings.Split(envValue, ",") {
			raw, err := decodeKey(part)
			if err != nil {
				// Never echo the value: it is a secret.
				return nil, fmt.Errorf("FLOWGATE_MASTER_KEY: key %d: %w", i+1, err)
			}
			keys = append(keys, raw)
		}
		k, err := NewKeyring(keys[0], keys[1:]...)
		if err != nil {
			return nil, fmt.Errorf("FLOWGATE_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	if dataDir == "" {
		return nil, errors.New("master key: FLOWGATE_MASTER_KEY is not set and there is no data directory for a key file")
	}
	raw, err := loadOrCreateKeyFile(filepath.Join(dataDir, MasterKeyFile))
	if err != nil {
		return nil, err
	}
	return NewKeyring(raw)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != KeySize {
				return nil, fmt.Errorf("want Base64 of %d bytes, got %d bytes (generate one with `openssl rand -base64 32`)", KeySize, len(raw))
			}
			return raw, nil
		}
	}
	return nil, fmt.Errorf("not Base64 (generate one with `openssl rand -base64 32`)")
}

func loadOrCreateKeyFile(path string) ([]byte, error) {
	raw, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return raw, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	raw = make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("master key file %s: generate: %w", path, err)
	}
	// Write a complete file under a temporary name, then link it into place:
	// a crash never leaves a half-written key, and of two processes starting
	// at once the second finds the first one's key (link fails if it exists).
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master.key-*")
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return raw, nil
}

func readKeyFile(path string) ([]byte, error) {
	info, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s: not a regular file (symlinks are refused)", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s: permissions %04o are too open: run `chmod 600 %s`", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	raw, err := decodeKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return raw, nil
}

// NewEncryptionKey returns a new workflow encryption key (AES-256) and its
// Base64 form, which is shown to the user once.
func NewEncryptionKey() (raw []byte, b64 string, err error) {
	raw = make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("new encryption key: %w", err)
	}
	return raw, base64.StdEncoding.EncodeToString(raw), nil
}
