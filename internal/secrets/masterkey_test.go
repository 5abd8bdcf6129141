package secrets

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadMasterKeyFromEnv(t *testing.T) {
	key := newKey(t)
	b64 := base64.StdEncoding.EncodeToString(key)
	c, err := LoadMasterKey(b64, "")
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := c.Seal([]byte("v"), nil)
	// The same key in another Base64 alphabet is the same key.
	c2, err := LoadMasterKey(" "+base64.RawURLEncoding.EncodeToString(key)+"\n", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.Open(ct, nil); err != nil || string(got) != "v" {
		t.Fatalf("Open under the same key = %q, %v", got, err)
	}
}

func TestLoadMasterKeyRotationList(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	enc := base64.StdEncoding.EncodeToString
	old, _ := LoadMasterKey(enc(oldKey), "")
	ct, _ := old.Seal([]byte("v"), nil)
	both, err := LoadMasterKey(enc(newK)+","+enc(oldKey), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := both.Open(ct, nil); err != nil || string(got) != "v" {
		t.Fatalf("old value under new,old = %q, %v", got, err)
	}
}

func TestLoadMasterKeyRefusesBadEnv(t *testing.T) {
	secretish := "c2hvcnQ=" // "short"
	for name, v := range map[string]string{
		"not base64": "not base64 !!!",
		"short":      secretish,
		"empty item": base64.StdEncoding.EncodeToString(newKey(t)) + ",",
	} {
		_, err := LoadMasterKey(v, t.TempDir())
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), secretish) || strings.Contains(err.Error(), "!!!") {
			t.Errorf("%s: the error echoes the key: %v", name, err)
		}
	}
}

func TestMasterKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c1, err := LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, MasterKeyFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file permissions %04o, want 0600", perm)
	}
	ct, _ := c1.Seal([]byte("v"), []byte("a"))
	c2, err := LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.Open(ct, []byte("a")); err != nil || string(got) != "v" {
		t.Fatalf("the second load is another key: %q, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d entries, want only %s", len(entries), MasterKeyFile)
	}
}

func TestMasterKeyFileRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"group readable", func(t *testing.T, path string) { writeKeyFile(t, path, 0o640) }, "too open"},
		{"world readable", func(t *testing.T, path string) { writeKeyFile(t, path, 0o604) }, "too open"},
		{"symlink", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "k")
			writeKeyFile(t, target, 0o600)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"directory", func(t *testing.T, path string) { os.Mkdir(path, 0o700) }, "not a regular file"},
		{"garbage", func(t *testing.T, path string) { os.WriteFile(path, []byte("xyz!"), 0o600) }, "not Base64"},
		{"short key", func(t *testing.T, path string) { os.WriteFile(path, []byte("c2hvcnQ="), 0o600) }, "got 5 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, MasterKeyFile)
			tc.setup(t, path)
			_, err := LoadMasterKey("", dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func writeKeyFile(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(newKey(t))), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
}

func TestMasterKeyFileConcurrentFirstStart(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	ciphers := make([]Cipher, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ciphers[i], errs[i] = LoadMasterKey("", dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	ct, _ := ciphers[0].Seal([]byte("v"), nil)
	for i := 1; i < n; i++ {
		if _, err := ciphers[i].Open(ct, nil); err != nil {
			t.Fatalf("process %d generated its own key: %v", i, err)
		}
	}
}

func TestLoadMasterKeyNeedsSomewhere(t *testing.T) {
	if _, err := LoadMasterKey("", ""); err == nil {
		t.Fatal("no env key and no data dir: accepted")
	}
}

func TestNewEncryptionKey(t *testing.T) {
	raw, b64, err := NewEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != KeySize {
		t.Fatalf("key is %d bytes", len(raw))
	}
	dec, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || string(dec) != string(raw) {
		t.Fatalf("Base64 form does not decode to the key: %v", err)
	}
	raw2, _, _ := NewEncryptionKey()
	if string(raw) == string(raw2) {
		t.Fatal("two keys are equal")
	}
}
