package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestSecretsNeverReadBack(t *testing.T) {
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

func TestRuntimeToken(t *testing.T) {
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
