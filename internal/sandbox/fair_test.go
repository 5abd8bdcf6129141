package sandbox

import (
	"context"
	"testing"
	"time"
)

// With every slot held by one scope and its backlog queued first, a
// request of another scope gets the next freed slot.
func TestFairSlotsServeOtherScopesFirst(t *testing.T) {
	f := newFairSlots(2)
	ctx := context.Background()
	for range 2 {
		if err := f.acquire(ctx, "staging"); err != nil {
			t.Fatal(err)
		}
	}
	order := make(chan string, 10)
	queued := 0
	queue := func(scope string) {
		go func() {
			if err := f.acquire(ctx, scope); err == nil {
				order <- scope
			}
		}()
		queued++
		waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.waiting) == queued })
	}
	for range 3 {
		queue("staging")
	}
	queue("production")
	f.release("staging")
	if got := <-order; got != "production" {
		t.Fatalf("first freed slot went to %s, want production", got)
	}
	f.release("production")
	if got := <-order; got != "staging" {
		t.Fatalf("then %s", got)
	}
}

func TestFairSlotsCancelledWaiterLeaksNothing(t *testing.T) {
	f := newFairSlots(1)
	if err := f.acquire(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.acquire(ctx, "b") }()
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.waiting) == 1 })
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled wait got a slot")
	}
	f.release("a")
	if n := f.inUse(); n != 0 {
		t.Fatalf("%d slots in use", n)
	}
	if err := f.acquire(context.Background(), "c"); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !time.Now().After(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition never held")
}
