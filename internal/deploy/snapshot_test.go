package deploy

import (
	"context"
	"errors"
	"testing"

	"github.com/flowgate/flowgate/internal/store/storetest"
)

// waitRefresh waits for env's running background refresh, if any.
func waitRefresh(s *Service, env string) {
	v, ok := s.snaps.m.Load(env)
	if !ok {
		return
	}
	e := v.(*snapshotEntry)
	e.mu.Lock()
	done := e.inflight
	e.mu.Unlock()
	if done != nil {
		<-done
	}
}

// The trigger path's state comes from memory: refreshed from the database
// in the background, kept (up to the max stale) when the database fails,
// read again at once after a change made through this replica.
func TestSnapshotServesLastGoodState(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		other, _ := e.service(t) // another replica
		mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		if err := s.SetRuntimeToken(ctx, "prod", "tok"); err != nil {
			t.Fatal(err)
		}
		if err := s.PutVariable(ctx, "prod", "PLAN", "free", false); err != nil {
			t.Fatal(err)
		}
		if err := s.PutVariable(ctx, "prod", "API_KEY", "sk_1", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateEncryptionKey(ctx, "prod", "a"); err != nil {
			t.Fatal(err)
		}

		sn, err := s.Snapshot(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		live := liveIDs(t, s)
		for _, c := range []struct {
			what string
			ok   bool
		}{
			{"right token", sn.CheckToken("tok")},
			{"wrong token refused", !sn.CheckToken("tok2")},
			{"empty token refused", !sn.CheckToken("")},
			{"live a", sn.Live(tokens) != nil && sn.Live(tokens).DeploymentID == live["a"]},
			{"live b", sn.Live(m2m) != nil && sn.Live(m2m).DeploymentID == live["b"]},
			{"no live for another trigger", sn.Live("user:new_password_provided") == nil},
			{"plain variable", sn.Vars()["PLAN"] == EnvValue{Value: "free"}},
			{"secret opened", sn.Vars()["API_KEY"] == EnvValue{Value: "sk_1", IsSecret: true}},
			{"active key of a", len(sn.Key("a")) == 32},
			{"no key of b", sn.Key("b") == nil},
		} {
			if !c.ok {
				t.Errorf("%s: no", c.what)
			}
		}

		// Another replica's change is served after the interval, once the
		// background read is done; the call that starts it is not held.
		if err := other.PutVariable(ctx, "prod", "PLAN", "gold", false); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Snapshot(ctx, "prod"); got != sn {
			t.Fatal("re-read within the interval")
		}
		e.clock.Advance(s.liveInterval)
		if got, _ := s.Snapshot(ctx, "prod"); got != sn {
			t.Fatal("the call that started the refresh waited for it")
		}
		waitRefresh(s, "prod")
		if got, _ := s.Snapshot(ctx, "prod"); got.Vars()["PLAN"].Value != "gold" {
			t.Fatalf("after the refresh PLAN = %q", got.Vars()["PLAN"].Value)
		}

		// A change made through this replica is read by the next call.
		if err := other.PutVariable(ctx, "prod", "PLAN", "silver", false); err != nil {
			t.Fatal(err)
		}
		s.InvalidateSnapshot("prod")
		good, err := s.Snapshot(ctx, "prod")
		if err != nil || good.Vars()["PLAN"].Value != "silver" {
			t.Fatalf("after invalidate: %v %v", good.Vars()["PLAN"], err)
		}

		// The database goes away: the last good state is served, the
		// failure counted, until it is older than the max stale.
		s.db.Close()
		e.clock.Advance(s.liveInterval)
		if got, err := s.Snapshot(ctx, "prod"); err != nil || got != good {
			t.Fatalf("outage: %v, %v", got, err)
		}
		waitRefresh(s, "prod")
		st := s.SnapshotStats()
		if st.RefreshFailures == 0 || st.Failing != 1 {
			t.Fatalf("stats during the outage: %+v", st)
		}
		s.InvalidateSnapshot("prod") // a change owed is not a reason to fail
		if got, err := s.Snapshot(ctx, "prod"); err != nil || got != good || !got.CheckToken("tok") {
			t.Fatalf("outage, invalidated: %v, %v", got, err)
		}
		if s.SnapshotStats().ServedStale == 0 {
			t.Fatal("stale serves not counted")
		}
		e.clock.Advance(s.maxStale)
		if _, err := s.Snapshot(ctx, "prod"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("past the max stale: %v, want ErrUnavailable", err)
		}
		// Never read: nothing to serve.
		if _, err := s.Snapshot(ctx, "never-read"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("cold environment during the outage: %v", err)
		}
	})
}

// Made-up environment names cost a bounded amount of memory and never
// authenticate.
func TestSnapshotUnknownEnvironments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLiteURL(t))
	s, _ := e.service(t)
	ctx := context.Background()
	for i := range 3 {
		sn, err := s.Snapshot(ctx, "nope")
		if err != nil {
			t.Fatal(err)
		}
		if sn.CheckToken("") || sn.CheckToken("anything") || sn.Live(tokens) != nil {
			t.Fatalf("call %d: an unknown environment authenticated or served", i)
		}
	}
	if n := s.snaps.n.Load(); n != 1 {
		t.Fatalf("%d entries for one name", n)
	}
}
