package runtime

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	code, _ := os.ReadFile(os.Getenv("PROBE"))
	e := New(Options{Limits: Limits{WallTime: 5 * time.Second, MemoryBytes: 32 << 20}})
	p, err := e.Load(code, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := time.Now()
	r := e.Run(context.Background(), Invocation{Program: p, Settings: settings(), Event: []byte(`{}`)})
	t.Logf("%s %+v %s", r.Status, r.Error, time.Since(st))
}
