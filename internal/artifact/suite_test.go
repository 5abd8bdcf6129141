package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// backend is what the shared suite needs from one Store implementation.
type backend struct {
	// open returns a fresh, empty store.
	open func(t *testing.T, opts Options) Store
	// plant stores raw bytes under digest's name behind the store's back
	// (to simulate corruption or tampering).
	plant func(t *testing.T, st Store, digest string, data []byte)
}

// runSuite is the contract every Store must keep.
func runSuite(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("round trip", func(t *testing.T) {
		st := b.open(t, Options{})
		for _, data := range [][]byte{
			[]byte("export default async function handle() {}"),
			{},
			bytes.Repeat([]byte{0, 1, 2, 255}, 64<<10),
		} {
			digest, err := st.Put(ctx, data)
			if err != nil {
				t.Fatalf("Put(%d bytes): %v", len(data), err)
			}
			if digest != Digest(data) {
				t.Fatalf("Put digest = %s, want %s", digest, Digest(data))
			}
			ok, err := st.Has(ctx, digest)
			if err != nil || !ok {
				t.Fatalf("Has(%s) = %v, %v; want true", digest, ok, err)
			}
			got, err := st.Get(ctx, digest)
			if err != nil {
				t.Fatalf("Get(%s): %v", digest, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("Get returned %d bytes, want the %d put", len(got), len(data))
			}
		}
	})

	t.Run("put existing content is a no-op", func(t *testing.T) {
		st := b.open(t, Options{})
		data := []byte("same bytes")
		for i := range 3 {
			digest, err := st.Put(ctx, data)
			if err != nil || digest != Digest(data) {
				t.Fatalf("Put #%d = %s, %v", i, digest, err)
			}
		}
		got, err := st.Get(ctx, Digest(data))
		if err != nil || string(got) != "same bytes" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	})

	t.Run("absent", func(t *testing.T) {
		st := b.open(t, Options{})
		digest := Digest([]byte("never stored"))
		if _, err := st.Get(ctx, digest); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get absent: err = %v, want ErrNotFound", err)
		}
		ok, err := st.Has(ctx, digest)
		if err != nil || ok {
			t.Fatalf("Has absent = %v, %v; want false, nil", ok, err)
		}
	})

	t.Run("hostile digests", func(t *testing.T) {
		st := b.open(t, Options{})
		if _, err := st.Put(ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
		valid := Digest([]byte("x"))
		for _, digest := range []string{
			"",
			"..",
			"../../../../etc/passwd",
			"../" + valid[3:],
			"/" + valid[1:],
			valid[:2] + "/" + valid[3:],
			strings.ToUpper(valid),
			valid[:63],
			valid + "0",
			valid[:63] + "\x00",
			valid[:62] + "é",
			strings.Repeat("g", 64),
			"sha256:" + valid,
			strings.Repeat("a", 10000),
		} {
			if _, err := st.Get(ctx, digest); !errors.Is(err, ErrInvalidDigest) {
				t.Errorf("Get(%q): err = %v, want ErrInvalidDigest", digest, err)
			}
			if ok, err := st.Has(ctx, digest); ok || !errors.Is(err, ErrInvalidDigest) {
				t.Errorf("Has(%q) = %v, %v; want ErrInvalidDigest", digest, ok, err)
			}
		}
	})

	t.Run("corrupt object is detected, and repaired by Put", func(t *testing.T) {
		st := b.open(t, Options{})
		data := []byte("the real bundle")
		digest, err := st.Put(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		b.plant(t, st, digest, []byte("the real bundlE"))
		if _, err := st.Get(ctx, digest); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Get of a corrupt object: err = %v, want ErrCorrupt", err)
		}
		if _, err := st.Put(ctx, data); err != nil {
			t.Fatalf("Put over a corrupt object: %v", err)
		}
		got, err := st.Get(ctx, digest)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get after repair = %q, %v", got, err)
		}
	})

	t.Run("planted object under another name is refused", func(t *testing.T) {
		// Tampering: valid content, wrong name.
		st := b.open(t, Options{})
		evil := []byte("evil bundle")
		name := Digest([]byte("good bundle"))
		b.plant(t, st, name, evil)
		if _, err := st.Get(ctx, name); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Get: err = %v, want ErrCorrupt", err)
		}
	})

	t.Run("concurrent puts of the same content", func(t *testing.T) {
		st := b.open(t, Options{})
		data := bytes.Repeat([]byte("concurrent "), 10000)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				var digest string
				digest, errs[i] = st.Put(ctx, data)
				if errs[i] == nil && digest != Digest(data) {
					errs[i] = fmt.Errorf("digest %s", digest)
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Put #%d: %v", i, err)
			}
		}
		got, err := st.Get(ctx, Digest(data))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get after concurrent puts: %d bytes, %v", len(got), err)
		}
	})

	t.Run("concurrent puts of different content", func(t *testing.T) {
		st := b.open(t, Options{})
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = st.Put(ctx, fmt.Appendf(nil, "blob %d", i)) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Put #%d: %v", i, errs[i])
			}
			got, err := st.Get(ctx, Digest(fmt.Appendf(nil, "blob %d", i)))
			if err != nil || string(got) != fmt.Sprintf("blob %d", i) {
				t.Fatalf("Get #%d = %q, %v", i, got, err)
			}
		}
	})

	t.Run("size cap", func(t *testing.T) {
		st := b.open(t, Options{MaxBytes: 1024})
		if _, err := st.Put(ctx, make([]byte, 1024)); err != nil {
			t.Fatalf("Put at the cap: %v", err)
		}
		big := make([]byte, 1025)
		if _, err := st.Put(ctx, big); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Put above the cap: err = %v, want ErrTooLarge", err)
		}
		if ok, _ := st.Has(ctx, Digest(big)); ok {
			t.Fatal("a refused Put left an object behind")
		}
		// An oversized object planted behind the store's back is not read
		// into memory.
		huge := bytes.Repeat([]byte("h"), 4096)
		b.plant(t, st, Digest(huge), huge)
		if _, err := st.Get(ctx, Digest(huge)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Get of an oversized object: err = %v, want ErrTooLarge", err)
		}
	})

	t.Run("canceled context", func(t *testing.T) {
		st := b.open(t, Options{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := st.Put(cctx, []byte("late")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a canceled context: err = %v, want context.Canceled", err)
		}
		if ok, _ := st.Has(ctx, Digest([]byte("late"))); ok {
			t.Fatal("a canceled Put stored the object")
		}
	})
}
