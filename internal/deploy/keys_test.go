package deploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestEncryptionKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		if _, _, err := s.CreateEncryptionKey(ctx, "prod", "a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("key for an unknown workflow: %v", err)
		}
		mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		k1, b64, err := s.CreateEncryptionKey(ctx, "prod", "a")
		if err != nil {
			t.Fatal(err)
		}
		if !k1.Active {
			t.Fatal("the first key is not active")
		}
		k2, _, err := s.CreateEncryptionKey(ctx, "prod", "a")
		if err != nil {
			t.Fatal(err)
		}
		if k2.Active {
			t.Fatal("a second key became active")
		}
		raw, err := s.ActiveEncryptionKey(ctx, "prod", "a")
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := base64.StdEncoding.DecodeString(b64); !bytes.Equal(raw, want) || len(raw) == 0 {
			if want2, _ := base64.RawURLEncoding.DecodeString(b64); !bytes.Equal(raw, want2) {
				t.Fatal("active key differs from the one shown at creation")
			}
		}
		// The listing never carries key material.
		list, _ := s.EncryptionKeys(ctx, "prod", "a")
		data, _ := json.Marshal(list)
		if strings.Contains(string(data), b64) || len(list) != 2 {
			t.Fatalf("listing = %s", data)
		}
		if err := s.DeleteEncryptionKey(ctx, "prod", "a", k1.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("deleting the active key: %v", err)
		}
		if err := s.ActivateEncryptionKey(ctx, "prod", "a", k2.ID); err != nil {
			t.Fatal(err)
		}
		list, _ = s.EncryptionKeys(ctx, "prod", "a")
		if list[0].Active || !list[1].Active {
			t.Fatalf("after activating k2: %+v", list)
		}
		if err := s.DeleteEncryptionKey(ctx, "prod", "a", k1.ID); err != nil {
			t.Fatalf("deleting an inactive key: %v", err)
		}
		if err := s.DeactivateEncryptionKey(ctx, "prod", "a", k2.ID); err != nil {
			t.Fatal(err)
		}
		if raw, _ := s.ActiveEncryptionKey(ctx, "prod", "a"); raw != nil {
			t.Fatal("a key is active after deactivating the only one")
		}
		// Another workflow's key id is not reachable through this workflow.
		if err := s.ActivateEncryptionKey(ctx, "prod", "b", k2.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cross-workflow activate: %v", err)
		}
	})
}
