package runtime

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The run's context ends a host call in progress: a fetch to a server that
// never answers ends with the wall time (timer) or the caller's cancel,
// and the runtime then serves the next run normally.
func TestRunContextEndsHostCalls(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	host := strings.TrimPrefix(srv.URL, "http://")

	e := New(Options{Limits: Limits{WallTime: 300 * time.Millisecond, PoolSize: 1}})
	p := load(t, e, handler(`const r = await kinde.fetch("`+srv.URL+`/slow"); kinde.accessToken.setCustomClaim("s", r.status)`))
	ok := load(t, e, handler(`kinde.accessToken.setCustomClaim("ok", 1)`))
	st := settings()
	st.Bindings = map[string]workflow.BindingSettings{workflow.BindFetch: {}, workflow.BindAccessToken: {}}
	cfg := &bindings.Config{Settings: st, Net: &bindings.NetPolicy{AllowHosts: []string{host}, Timeout: time.Minute}}

	tests := []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		substr string
	}{
		{"wall time", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }, "execution time exceeded"},
		{"caller cancels", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, "cancelled"},
		{"caller deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, "execution time exceeded"},
	}
	for _, tc := range tests {
		ctx, cancel := tc.ctx()
		start := time.Now()
		r := e.Run(ctx, Invocation{Program: p, Settings: st, Bindings: cfg})
		cancel()
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("%s: the fetch was not ended (%s)", tc.name, el)
		}
		if r.Status != workflow.StatusFailed || r.Error == nil || !strings.Contains(r.Error.Message, tc.substr) ||
			strings.Contains(r.Error.Message, "internal error") {
			t.Errorf("%s: %q %+v; want failed with %q", tc.name, r.Status, r.Error, tc.substr)
		}
		// The same engine keeps working, pooled runtime or not.
		wantSucceeded(t, e.Run(context.Background(), Invocation{Program: ok, Settings: settings()}))
	}
}

func TestRunCtx(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	defer cancel()
	c := newRunCtx(parent, time.Hour)
	if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("deadline %v %v", d, ok)
	}
	if c.Value(ctxKey{}) != "v" || c.Err() != nil {
		t.Fatalf("value %v err %v", c.Value(ctxKey{}), c.Err())
	}
	done := c.Done()
	if !c.end(context.DeadlineExceeded) || c.end(context.Canceled) {
		t.Fatal("end must report only the first call")
	}
	<-done
	<-c.Done()
	if c.Err() != context.DeadlineExceeded {
		t.Errorf("err %v", c.Err())
	}
	// Ended before anyone asked for Done: the channel comes closed.
	c2 := newRunCtx(parent, time.Hour)
	c2.end(context.Canceled)
	<-c2.Done()
	// A caller deadline sooner than the wall time wins.
	short, cancel2 := context.WithTimeout(parent, time.Minute)
	defer cancel2()
	if d, _ := newRunCtx(short, time.Hour).Deadline(); time.Until(d) > time.Minute {
		t.Errorf("deadline %v ignores the caller's", d)
	}
}

type ctxKey struct{}
