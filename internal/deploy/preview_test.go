package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestPreviewPassword(t *testing.T) {
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

// TestPreviewHardening: a burst of concurrent wrong guesses is counted
// before any is checked, and a deleted workflow no longer runs through its
// preview.
func TestPreviewHardening(t *testing.T) {
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
