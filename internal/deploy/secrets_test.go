package deploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestSecretsNeverReadBack(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		const secret = "s3cr3t-value-9f8e7d"
		if err := s.PutVariable(ctx, "prod", "API_KEY", secret, true); err != nil {
			t.Fatal(err)
		}
		if err := s.PutVariable(ctx, "prod", "REGION", "eu", false); err != nil {
			t.Fatal(err)
		}
		v, err := s.Variable(ctx, "prod", "API_KEY")
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.Variables(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		// Whatever the API serializes must not contain the secret.
		for _, x := range []any{v, list} {
			data, _ := json.Marshal(x)
			if strings.Contains(string(data), secret) {
				t.Fatalf("secret readable through the API view: %s", data)
			}
		}
		if !v.IsSecret || v.Value != "" || list[1].Value != "eu" {
			t.Fatalf("views = %+v, %+v", v, list)
		}
		// At rest it is sealed, not stored in the clear.
		raw, err := s.db.Variable(ctx, "prod", "API_KEY")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw.Value, []byte(secret)) {
			t.Fatal("secret stored in the clear")
		}
		// The invocation path opens it.
		envs, err := s.EnvForInvocation(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if envs["API_KEY"] != (EnvValue{Value: secret, IsSecret: true}) || envs["REGION"].Value != "eu" {
			t.Fatalf("invocation env = %+v", envs)
		}
		// A sealed value moved to another name does not open (AAD binds it).
		if err := s.db.PutVariable(ctx, store.Variable{Env: "prod", Name: "STOLEN", Value: raw.Value, Secret: true}); err != nil {
			t.Fatal(err)
		}
		envs, err = s.EnvForInvocation(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if st := envs["STOLEN"]; st.Value != "" || !strings.Contains(st.Unreadable, "STOLEN cannot be decrypted") || strings.Contains(st.Unreadable, secret) {
			t.Fatalf("moved ciphertext: %+v", st)
		}
		if envs["API_KEY"].Value != secret {
			t.Fatal("one unreadable secret hid the others")
		}
	})
}

func TestVariableInputRejected(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		for name, c := range map[string]struct{ env, name, value string }{
			"empty name":      {"prod", "", "v"},
			"name with slash": {"prod", "a/b", "v"},
			"name too long":   {"prod", strings.Repeat("a", 129), "v"},
			"value too large": {"prod", "BIG", strings.Repeat("x", MaxVariableBytes+1)},
			"bad environment": {"pr od", "A", "v"},
		} {
			if err := s.PutVariable(ctx, c.env, c.name, c.value, false); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
		if vs, _ := s.Variables(ctx, "prod"); len(vs) != 0 {
			t.Fatalf("rejected input was stored: %+v", vs)
		}
		if err := s.DeleteVariable(ctx, "prod", "NOPE"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete missing: %v", err)
		}
	})
}

func TestEncryptionKeys(t *testing.T) {
	t.Parallel()
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

func TestPreviewPassword(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		if err := s.SetPreviewMode(ctx, "prod", true); err != nil {
			t.Fatal(err)
		}
		a1 := depOf(t, mustSync(t, s, twoWorkflows(t, "v1"), "sha1"), "a")
		if _, err := s.Preview(ctx, "prod", a1.ID, "anything"); !errors.Is(err, ErrBadPassword) {
			t.Fatalf("preview without a password set: %v", err)
		}
		pw, err := s.NewPreviewPassword(ctx, "prod", a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := s.db.Deployment(ctx, a1.ID)
		if !d.HasPreviewPassword {
			t.Fatal("no password recorded")
		}
		l, err := s.Preview(ctx, "prod", a1.ID, pw)
		if err != nil || l.DeploymentID != a1.ID || l.Trigger != tokens {
			t.Fatalf("preview = %+v, %v", l, err)
		}
		if _, err := s.Preview(ctx, "other-env", a1.ID, pw); !errors.Is(err, ErrNotFound) {
			t.Fatalf("preview through another environment: %v", err)
		}
		// Failures lock the deployment, even for the right password.
		for i := 0; i < 5; i++ {
			if _, err := s.Preview(ctx, "prod", a1.ID, "wrong"); !errors.Is(err, ErrBadPassword) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if _, err := s.Preview(ctx, "prod", a1.ID, pw); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("after 5 failures: %v", err)
		}
		// A second replica sees the same count.
		s2, _ := e.service(t)
		if _, err := s2.Preview(ctx, "prod", a1.ID, pw); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("other replica after 5 failures: %v", err)
		}
		e.clock.Advance(16 * time.Minute)
		if _, err := s.Preview(ctx, "prod", a1.ID, pw); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		// A new password replaces the old one.
		pw2, _ := s.NewPreviewPassword(ctx, "prod", a1.ID)
		if _, err := s.Preview(ctx, "prod", a1.ID, pw); !errors.Is(err, ErrBadPassword) {
			t.Fatalf("old password after rotation: %v", err)
		}
		if _, err := s.Preview(ctx, "prod", a1.ID, pw2); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRuntimeToken(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		if ok, _ := s.CheckRuntimeToken(ctx, "prod", "x"); ok {
			t.Fatal("token accepted for an unknown environment")
		}
		if err := s.SetRuntimeToken(ctx, "prod", "fgt_abc"); err != nil {
			t.Fatal(err)
		}
		for tok, want := range map[string]bool{"fgt_abc": true, "fgt_abd": false, "": false} {
			if ok, err := s.CheckRuntimeToken(ctx, "prod", tok); ok != want || err != nil {
				t.Errorf("token %q: %v, %v", tok, ok, err)
			}
		}
		e, _ := s.Environment(ctx, "prod")
		if strings.Contains(e.RuntimeTokenHash, "fgt_abc") {
			t.Fatal("runtime token stored in the clear")
		}
	})
}

// TestPreviewHardening holds what an attack review found: a burst of
// concurrent wrong guesses all got checked (the count was read before any
// was recorded), and a deleted workflow still ran through its preview.
func TestPreviewHardening(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		a1 := depOf(t, mustSync(t, s, twoWorkflows(t, "v1"), "sha1"), "a")
		if _, err := s.NewPreviewPassword(ctx, "prod", a1.ID); err != nil {
			t.Fatal(err)
		}
		const burst = 30
		errs := make(chan error, burst)
		var wg sync.WaitGroup
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Preview(ctx, "prod", a1.ID, fmt.Sprintf("guess-%d", i))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		checked := 0
		for err := range errs {
			switch {
			case errors.Is(err, ErrBadPassword):
				checked++
			case !errors.Is(err, ErrRateLimited):
				t.Errorf("unexpected: %v", err)
			}
		}
		if checked > 5 {
			t.Fatalf("%d of %d concurrent guesses were checked; the limit is 5", checked, burst)
		}

		// A deleted workflow runs by no path: no preview, no new password.
		e.clock.Advance(16 * time.Minute)
		pw, err := s.NewPreviewPassword(ctx, "prod", a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteWorkflow(ctx, "prod", "a", Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Preview(ctx, "prod", a1.ID, pw); !errors.Is(err, ErrNotFound) {
			t.Fatalf("preview of a deleted workflow: %v", err)
		}
		if _, err := s.NewPreviewPassword(ctx, "prod", a1.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("new preview password of a deleted workflow: %v", err)
		}
	})
}
