package deploy

import (
	"context"
	"errors"
	"testing"

	"github.com/flowgate/flowgate/internal/store/storetest"
)

// Resolve is the trigger path's one domain call: the token first, then
// the live deployment (or a preview after its password) with its code,
// the variables and the key, prepared once per snapshot.
func TestResolve(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		a1 := depOf(t, mustSync(t, s, twoWorkflows(t, "v1"), "sha1"), "a") // live
		if err := s.SetPreviewMode(ctx, "prod", true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRuntimeToken(ctx, "prod", "tok"); err != nil {
			t.Fatal(err)
		}
		if err := s.PutVariable(ctx, "prod", "PLAN", "free", false); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateEncryptionKey(ctx, "prod", "a"); err != nil {
			t.Fatal(err)
		}
		pw, err := s.NewPreviewPassword(ctx, "prod", a1.ID)
		if err != nil {
			t.Fatal(err)
		}

		inv, err := s.Resolve(ctx, "prod", tokens, "tok", nil)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Deployment == nil || inv.Deployment.DeploymentID != a1.ID || inv.Settings.ID != "a" ||
			len(inv.Code) == 0 || inv.Vars["PLAN"].Value != "free" || len(inv.Key) != 32 || inv.Preview {
			t.Fatalf("live invocation = %+v", inv)
		}
		if again, _ := s.Resolve(ctx, "prod", tokens, "tok", nil); again != inv {
			t.Error("a live invocation is prepared again within one snapshot")
		}
		if l, err := s.ResolveLive(ctx, "prod", tokens); err != nil || l != inv {
			t.Errorf("ResolveLive = %p, %v; want the same invocation", l, err)
		}

		for _, c := range []struct {
			name, env, trigger, token string
			preview                   *Preview
			wantErr                   error
			wantMismatch, wantNothing bool
		}{
			{name: "wrong token", env: "prod", trigger: tokens, token: "tok2", wantErr: ErrUnauthorized},
			{name: "no token", env: "prod", trigger: tokens, wantErr: ErrUnauthorized},
			{name: "unknown environment", env: "nope", trigger: tokens, token: "tok", wantErr: ErrUnauthorized},
			{name: "wrong token before a preview is checked", env: "prod", trigger: tokens, token: "x",
				preview: &Preview{DeploymentID: a1.ID, Password: pw}, wantErr: ErrUnauthorized},
			{name: "nothing live for the trigger", env: "prod", trigger: "user:new_password_provided", token: "tok", wantNothing: true},
			{name: "preview, wrong password", env: "prod", trigger: tokens, token: "tok",
				preview: &Preview{DeploymentID: a1.ID, Password: "wrong"}, wantErr: ErrBadPassword},
			{name: "preview of an unknown deployment", env: "prod", trigger: tokens, token: "tok",
				preview: &Preview{DeploymentID: "dep_nope", Password: pw}, wantErr: ErrNotFound},
			{name: "preview on another trigger", env: "prod", trigger: m2m, token: "tok",
				preview: &Preview{DeploymentID: a1.ID, Password: pw}, wantMismatch: true},
		} {
			t.Run(c.name, func(t *testing.T) {
				inv, err := s.Resolve(ctx, c.env, c.trigger, c.token, c.preview)
				var mismatch *TriggerMismatchError
				switch {
				case c.wantErr != nil:
					if !errors.Is(err, c.wantErr) {
						t.Errorf("err = %v, want %v", err, c.wantErr)
					}
				case c.wantMismatch:
					if !errors.As(err, &mismatch) || mismatch.Has != tokens || mismatch.Called != m2m {
						t.Errorf("err = %v, want a trigger mismatch", err)
					}
				case c.wantNothing:
					if err != nil || inv.Deployment != nil || inv.Code != nil {
						t.Errorf("= %+v, %v; want nothing to run", inv, err)
					}
				}
			})
		}

		p, err := s.Resolve(ctx, "prod", tokens, "tok", &Preview{DeploymentID: a1.ID, Password: pw})
		if err != nil || !p.Preview || p.Deployment.DeploymentID != a1.ID || len(p.Code) == 0 || len(p.Key) != 32 {
			t.Fatalf("preview = %+v, %v", p, err)
		}
	})
}

// The code cache is bounded by bytes: the least recently used artifact
// goes first, and one larger than the bound is never kept.
func TestCodeCacheBound(t *testing.T) {
	c := newCodeCache(10)
	c.put("a", make([]byte, 4))
	c.put("b", make([]byte, 4))
	c.get("a") // a is now the most recently used
	c.put("c", make([]byte, 4))
	c.put("huge", make([]byte, 11))
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "huge": false} {
		if _, ok := c.get(k); ok != want {
			t.Errorf("%s cached = %v, want %v", k, ok, want)
		}
	}
	if c.size != 8 {
		t.Errorf("size = %d, want 8", c.size)
	}
}
