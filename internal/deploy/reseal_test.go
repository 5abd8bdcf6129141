package deploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func masterKey(n byte) []byte { return bytes.Repeat([]byte{n}, secrets.KeySize) }

// withCipher opens another replica of e whose master keys are keys (the
// first seals).
func (e *env) withCipher(t *testing.T, keys ...[]byte) *Service {
	t.Helper()
	base, _ := e.service(t, svcOpts{realClock: true})
	k, err := secrets.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: base.db, Artifacts: base.artifacts, Cipher: k, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitRun polls a re-seal run until it is over, for at most a minute (a
// bound against hangs, not a timing assertion).
func waitRun(t *testing.T, s *Service, id string) store.ResealRun {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		run, err := s.ResealRun(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Finished() {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-seal run %s is %s after a minute", id, run.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A rotation "new,old" finishes with the re-seal job: afterwards a replica
// holding only the new key opens every variable and workflow key; a value
// no key opens is named in the run and left as it is.
func TestResealFinishesAMasterKeyRotation(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		oldKey, newKey := masterKey(1), masterKey(2)
		old := e.withCipher(t, oldKey)
		mustSync(t, old, twoWorkflows(t, "v1"), "sha1")
		if err := old.PutVariable(ctx, "prod", "API_KEY", "sk_live_hunter2", true); err != nil {
			t.Fatal(err)
		}
		if err := old.PutVariable(ctx, "prod", "REGION", "eu", false); err != nil {
			t.Fatal(err)
		}
		_, b64, err := old.CreateEncryptionKey(ctx, "prod", "a")
		if err != nil {
			t.Fatal(err)
		}
		// Sealed under a key nobody configures any more.
		if err := e.withCipher(t, masterKey(3)).PutVariable(ctx, "prod", "LOST", "gone", true); err != nil {
			t.Fatal(err)
		}

		rotating := e.withCipher(t, newKey, oldKey)
		opts := JobsOptions{Store: rotating.db, Service: rotating, PollInterval: 50 * time.Millisecond, RetryPolicy: soonRetry{}, Logger: quietLogger()}
		RegisterReseal(&opts)
		jobs, err := NewJobs(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		startJobs(t, jobs)
		run, err := rotating.StartReseal(ctx, jobs)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := rotating.StartReseal(ctx, jobs); err != nil || (!again.Finished() && again.ID != run.ID) {
			t.Fatalf("a second start while the first runs: %+v %v", again, err)
		}
		run = waitRun(t, rotating, run.ID)
		if run.State != store.ResealPartial || run.Total != 3 || run.Scanned != 3 || run.Resealed != 2 || run.Unreadable != 1 ||
			len(run.UnreadableNames) != 1 || run.UnreadableNames[0] != "variable prod/LOST" || !strings.Contains(run.Error, "1 sealed values") {
			t.Fatalf("run = %+v", run)
		}

		newOnly := e.withCipher(t, newKey)
		envs, err := newOnly.EnvForInvocation(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if envs["API_KEY"].Value != "sk_live_hunter2" || envs["REGION"].Value != "eu" || envs["LOST"].Unreadable == "" {
			t.Fatalf("after the re-seal, with the new key only: %+v", envs)
		}
		raw, err := newOnly.ActiveEncryptionKey(ctx, "prod", "a")
		if want, _ := base64.StdEncoding.DecodeString(b64); err != nil || !bytes.Equal(raw, want) {
			t.Fatalf("workflow key with the new master key only: %v", err)
		}

		// Once LOST is set again, a second run finds nothing left to do.
		if err := newOnly.PutVariable(ctx, "prod", "LOST", "found", true); err != nil {
			t.Fatal(err)
		}
		run2, err := rotating.StartReseal(ctx, jobs)
		if err != nil || run2.ID == run.ID {
			t.Fatalf("second run %+v %v", run2, err)
		}
		if run2 = waitRun(t, rotating, run2.ID); run2.State != store.ResealSucceeded || run2.Resealed != 0 || run2.Scanned != 3 {
			t.Fatalf("second run = %+v", run2)
		}
	})
}

// A workflow key that does not open fails only what needs it.
func TestUnreadableEncryptionKeyIsNamed(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		old := e.withCipher(t, masterKey(1))
		mustSync(t, old, twoWorkflows(t, "v1"), "sha1")
		k, _, err := old.CreateEncryptionKey(ctx, "prod", "a")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.withCipher(t, masterKey(2)).ActiveEncryptionKey(ctx, "prod", "a")
		var unreadable *UnreadableKeyError
		if !errors.As(err, &unreadable) || unreadable.KeyID != k.ID || !strings.Contains(err.Error(), "re-seal") {
			t.Fatalf("err = %v", err)
		}
	})
}

// runAtOnce is a job queue whose worker finishes each re-seal before
// Enqueue returns: the fastest a real worker can be.
type runAtOnce struct{ s *Service }

func (q runAtOnce) Enqueue(ctx context.Context, args river.JobArgs, _ *river.InsertOpts) (EnqueueResult, error) {
	return EnqueueResult{}, q.s.Reseal(ctx, args.(ResealArgs).RunID)
}

// TestStartResealAnswersTheRunAsQueued: the answer to starting a re-seal
// is the run as queued, however fast its job then runs.
func TestStartResealAnswersTheRunAsQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newEnv(t, storetest.SQLiteURL(t)).service(t)
	run, err := s.StartReseal(ctx, runAtOnce{s})
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.ResealQueued || run.Finished() || run.CreatedAt.IsZero() {
		t.Fatalf("StartReseal answered %+v, want the run as queued", run)
	}
	if done, err := s.ResealRun(ctx, run.ID); err != nil || !done.Finished() {
		t.Fatalf("the run after its job: %+v %v", done, err)
	}
}
