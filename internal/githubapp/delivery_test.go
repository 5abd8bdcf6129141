package githubapp

import (
	"context"
	"errors"
	"testing"

	"github.com/riverqueue/river"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// flakyJobs fails its first enqueue, then records what it is given.
type flakyJobs struct {
	fail bool
	got  []DeliveryArgs
}

func (f *flakyJobs) Enqueue(_ context.Context, args river.JobArgs, _ *river.InsertOpts) (deploy.EnqueueResult, error) {
	if f.fail {
		f.fail = false
		return deploy.EnqueueResult{}, errors.New("injected: queue down")
	}
	f.got = append(f.got, args.(DeliveryArgs))
	return deploy.EnqueueResult{JobID: int64(len(f.got))}, nil
}

func TestRiverQueueRecordsDeliveries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	jobs := &flakyJobs{fail: true}
	q := &RiverQueue{Jobs: jobs, Store: h.db}
	ctx := context.Background()
	d := Delivery{ID: "abc-1", Event: "push", Payload: []byte(`{}`)}
	if _, err := q.EnqueueDelivery(ctx, d); err == nil {
		t.Fatal("a failed enqueue was reported as queued")
	}
	// The id was forgotten: GitHub's redelivery is accepted and queued.
	dup, err := q.EnqueueDelivery(ctx, d)
	if err != nil || dup || len(jobs.got) != 1 {
		t.Fatalf("redelivery after a failed enqueue: dup %v, err %v, queued %d", dup, err, len(jobs.got))
	}
	if jobs.got[0].ID != "abc-1" || jobs.got[0].ReceivedAt.IsZero() {
		t.Fatalf("queued %+v", jobs.got[0])
	}
	// Any later delivery with the id is a duplicate and queues nothing.
	for range 3 {
		dup, err = q.EnqueueDelivery(ctx, d)
		if err != nil || !dup {
			t.Fatalf("replay: dup %v, err %v", dup, err)
		}
	}
	if len(jobs.got) != 1 {
		t.Fatalf("a replay was queued: %d jobs", len(jobs.got))
	}
	if opts := (DeliveryArgs{}).InsertOpts(); opts.Queue != QueueDeliveries || !opts.UniqueOpts.ByArgs {
		t.Fatalf("insert opts %+v", opts)
	}
}

// FuzzHandle: no payload makes a handler panic; every outcome is a
// handled delivery, a retryable error or a dropped bad payload.
func FuzzHandle(f *testing.F) {
	for _, ev := range []string{"push", "pull_request", "issue_comment", "check_run", "check_suite", "installation", "installation_repositories"} {
		f.Add(ev, string(githubtest.Example(f, ev, "")))
	}
	f.Add("push", `{"ref":"refs/heads/main","after":"abcdef1","repository":{"name":"flows","owner":{"login":"acme"},"default_branch":"main"},"installation":{"id":7},"commits":[{"modified":["../../x"]}]}`)
	f.Add("issue_comment", `{"action":"created","comment":{"body":"/rollback x","user":{"login":"a/../b"}},"repository":{"name":"flows","owner":{"login":"acme"}},"installation":{"id":7}}`)
	f.Fuzz(func(t *testing.T, event, payload string) {
		h := newHarness(t)
		_ = h.app.Handle(context.Background(), DeliveryArgs{ID: "fuzz", Event: event, Payload: []byte(payload)})
	})
}
