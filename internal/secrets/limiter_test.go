package secrets

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func TestLimiter(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(LimiterConfig{MaxFailures: 3, Window: time.Minute, Now: clock.Now})
	for i := range 3 {
		if !l.Allow("dep1") {
			t.Fatalf("attempt %d refused before the limit", i+1)
		}
		l.Fail("dep1")
	}
	if l.Allow("dep1") {
		t.Fatal("allowed after 3 failures")
	}
	if !l.Allow("dep2") {
		t.Fatal("another key is limited too")
	}
	clock.Advance(59 * time.Second)
	if l.Allow("dep1") {
		t.Fatal("allowed before the window ended")
	}
	clock.Advance(time.Second)
	if !l.Allow("dep1") {
		t.Fatal("still refused after the window")
	}
	// A success forgets the failures.
	l.Fail("dep1")
	l.Fail("dep1")
	l.Success("dep1")
	l.Fail("dep1")
	l.Fail("dep1")
	if !l.Allow("dep1") {
		t.Fatal("failures before a success still count")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	l := NewLimiter(LimiterConfig{MaxFailures: 2, Window: time.Hour, MaxKeys: 100, Now: clock.Now})
	l.Fail("target")
	l.Fail("target")
	for i := range 10000 {
		clock.Advance(time.Millisecond)
		l.Fail(fmt.Sprintf("junk-%d", i))
		if l.Len() > 100 {
			t.Fatalf("limiter holds %d keys, cap 100", l.Len())
		}
	}
	// The oldest entries went first; recent ones are still limited.
	l.Fail("junk-9999")
	if l.Allow("junk-9999") {
		t.Fatal("a recent key lost its failures")
	}
}

func TestLimiterDropsExpiredFirst(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	l := NewLimiter(LimiterConfig{MaxFailures: 1, Window: time.Minute, MaxKeys: 2, Now: clock.Now})
	l.Fail("old")
	clock.Advance(30 * time.Second)
	l.Fail("live")
	clock.Advance(31 * time.Second) // "old" expired, "live" not
	l.Fail("new")
	if l.Allow("live") {
		t.Fatal("a live entry was evicted while an expired one was there")
	}
	if l.Allow("new") {
		t.Fatal("the new entry is missing")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(LimiterConfig{MaxFailures: 1000000, MaxKeys: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				key := fmt.Sprintf("k%d", (g*1000+i)%80)
				l.Allow(key)
				l.Fail(key)
				if i%7 == 0 {
					l.Success(key)
				}
			}
		})
	}
	wg.Wait()
	if l.Len() > 50 {
		t.Fatalf("limiter holds %d keys, cap 50", l.Len())
	}
}
