package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestRecordingsStored(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)

		// Off by default: the snapshot records nothing.
		st, err := s.RecordingSettings(ctx, "prod")
		if err != nil || st.Enabled || st.SampleRate != recording.DefaultSampleRate {
			t.Fatalf("default settings = %+v, %v", st, err)
		}
		if _, err := s.PutRecordingSettings(ctx, "prod", recording.Settings{Enabled: true, Workflows: []string{"wf1"},
			SampleRate: 1, MaxPerWorkflow: 3}); err != nil {
			t.Fatal(err)
		}
		sn, err := s.Snapshot(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		rs := sn.Recording()
		if rs == nil || !rs.Settings.Records("wf1") || rs.Settings.Records("wf2") || len(rs.Key) != 32 {
			t.Fatalf("snapshot recording state = %+v", rs)
		}
		// Saving again keeps the hashing key: hashes stay comparable.
		if _, err := s.PutRecordingSettings(ctx, "prod", recording.Settings{Enabled: true, Workflows: []string{"wf1"}, SampleRate: 0.5, MaxPerWorkflow: 3}); err != nil {
			t.Fatal(err)
		}
		s.InvalidateSnapshot("prod")
		sn, _ = s.Snapshot(ctx, "prod")
		if !bytes.Equal(sn.Recording().Key, rs.Key) || sn.Recording().Settings.SampleRate != 0.5 {
			t.Fatal("the hashing key changed, or the new settings were not read")
		}

		// An environment whose settings are gone keeps the default retention.
		if _, err := s.AddRecording(ctx, "orphan", replay.Recorded{WorkflowID: "wf1", Event: []byte(`{}`)}, 3); err != nil {
			t.Fatal(err)
		}
		const secret, password = "sk_live_secret_4242", "hunter2-correct-horse"
		env := map[string]bindings.EnvVar{"API_KEY": {Value: secret, IsSecret: true}}
		for i := range 5 {
			rec, err := recording.Redact(recording.Call{WorkflowID: "wf1", Trigger: tokens,
				Event: fmt.Appendf(nil, `{"n":%d,"context":{"auth":{"password":%q,"providedEmail":"ada@example.com"}}}`, i, password),
				Fetch: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/x?key=" + secret, Status: 200, Body: `{"echo":"` + secret + `"}`}},
				Env:   env}, rs.Settings.PII, rs.Key)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Hour)
			if _, err := s.AddRecording(ctx, "prod", rec, 3); err != nil {
				t.Fatal(err)
			}
		}
		other, _ := recording.Redact(recording.Call{WorkflowID: "wf2", Trigger: tokens, Event: []byte(`{"n":9}`)}, rs.Settings.PII, rs.Key)
		if _, err := s.AddRecording(ctx, "prod", other, 3); err != nil {
			t.Fatal(err)
		}

		got, err := s.Recordings(ctx, "prod", "wf1", 10)
		if err != nil {
			t.Fatal(err)
		}
		// The cap kept the newest three, newest first.
		if len(got) != 3 {
			t.Fatalf("%d recordings kept, want the cap of 3", len(got))
		}
		for i, want := range []string{`"n":4`, `"n":3`, `"n":2`} {
			if !bytes.Contains(got[i].Event, []byte(want)) || got[i].WorkflowID != "wf1" || got[i].ID == "" || got[i].At.IsZero() {
				t.Fatalf("recording %d = %s %+v, want %s", i, got[i].Event, got[i], want)
			}
		}
		if len(got[0].Fetch) != 1 || bytes.Contains([]byte(got[0].Fetch[0].URL+got[0].Fetch[0].Body), []byte(secret)) {
			t.Fatalf("fetch = %+v", got[0].Fetch)
		}
		if all, _ := s.Recordings(ctx, "prod", "", 10); len(all) != 4 {
			t.Fatalf("all workflows: %d recordings, want 4", len(all))
		}

		// At rest: sealed, no password, secret or email in any raw row.
		rows, err := s.db.Recordings(ctx, "prod", "", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for _, plain := range []string{secret, password, "ada@example.com", `"n":`} {
				if bytes.Contains(r.Sealed, []byte(plain)) {
					t.Fatalf("raw row %s holds %q", r.ID, plain)
				}
			}
		}
		raw, _ := s.db.RecordingSettings(ctx, "prod")
		if bytes.Contains(raw.PIIKey, rs.Key) {
			t.Fatal("hashing key stored in the clear")
		}

		// Retention: the recordings older than the retention go, in batches.
		e.clock.Advance(time.Duration(recording.DefaultRetentionDays)*24*time.Hour - 30*time.Minute)
		n, err := s.PruneRecordings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 { // wf1's n=2 and n=3 and the orphan's are past retention; n=4 and wf2's are not
			left, _ := s.Recordings(ctx, "prod", "", 10)
			t.Fatalf("pruned %d, %d left", n, len(left))
		}

		// Delete-all removes every recording of the environment only.
		if _, err := s.PutRecordingSettings(ctx, "dev", recording.Settings{Enabled: true, Workflows: []string{"wf1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddRecording(ctx, "dev", other, 3); err != nil {
			t.Fatal(err)
		}
		if n, err := s.DeleteRecordings(ctx, "prod"); err != nil || n != 2 {
			t.Fatalf("delete-all: %d, %v", n, err)
		}
		if left, _ := s.Recordings(ctx, "prod", "", 10); len(left) != 0 {
			t.Fatalf("%d left after delete-all", len(left))
		}
		if left, _ := s.Recordings(ctx, "dev", "", 10); len(left) != 1 {
			t.Fatal("delete-all of prod touched dev")
		}

		// A sealed recording moved to another environment does not open.
		devRows, _ := s.db.Recordings(ctx, "dev", "", 0, 1)
		moved := devRows[0]
		moved.Env, moved.ID = "prod", "rec_moved"
		if _, err := s.db.AddRecording(ctx, moved, 0); err != nil {
			t.Fatal(err)
		}
		if left, err := s.Recordings(ctx, "prod", "", 10); err != nil || len(left) != 0 {
			t.Fatalf("a moved recording opened: %d, %v", len(left), err)
		}
	})
}

func TestRecordingSettingsRejected(t *testing.T) {
	s, _ := newEnv(t, storetest.SQLiteURL(t)).service(t)
	for name, st := range map[string]recording.Settings{
		"sample rate above 1":   {SampleRate: 1.5},
		"negative sample rate":  {SampleRate: -0.1},
		"cap too large":         {MaxPerWorkflow: recording.MaxPerWorkflowLimit + 1},
		"negative retention":    {RetentionDays: -1},
		"retention too long":    {RetentionDays: recording.MaxRetentionDays + 1},
		"bad workflow id":       {Workflows: []string{"a b"}},
		"unknown email action":  {PII: recording.PIIRule{Emails: "encrypt"}},
		"hash-local for phones": {PII: recording.PIIRule{Phones: "hash-local"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.PutRecordingSettings(context.Background(), "prod", st)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
