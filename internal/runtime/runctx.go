package runtime

import (
	"context"
	"sync"
	"time"
)

// runCtx is one run's context: the caller's, ended by the run's wall-time
// deadline (the slot's reusable timer) or by the end of the run. It costs
// one allocation per run where context.WithTimeout plus context.AfterFunc
// cost about ten; its Done channel is made only when something (fetch)
// asks for it.
type runCtx struct {
	context.Context // the caller's; Value comes from it
	deadline        time.Time

	mu   sync.Mutex
	done chan struct{}
	err  error
}

func newRunCtx(parent context.Context, wall time.Duration) *runCtx {
	c := &runCtx{Context: parent, deadline: time.Now().Add(wall)}
	if d, ok := parent.Deadline(); ok && d.Before(c.deadline) {
		c.deadline = d
	}
	return c
}

func (c *runCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *runCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

func (c *runCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.Context.Err()
}

// end ends the context with err; it reports whether this call ended it.
func (c *runCtx) end(err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	return true
}
