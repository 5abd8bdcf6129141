package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real binary drains on SIGTERM: /readyz turns 503 while requests are
// still answered, and a second SIGTERM ends the drain; it exits 0.
func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "flowgate-app")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--isolation", "inprocess")
	cmd.Env = append(os.Environ(), "FLOWGATE_DRAIN_DELAY=1h", "FLOWGATE_ADMIN_TOKEN=admin")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// The address is in the "flowgate serving" log line.
	lines := bufio.NewScanner(stderr)
	base := ""
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), "url="); ok && strings.Contains(lines.Text(), "flowgate serving") {
			base = strings.Fields(rest)[0]
			break
		}
	}
	if base == "" {
		t.Fatal("no serving line")
	}
	go func() { // keep the pipe drained
		for lines.Scan() {
		}
	}()
	get := func(path string) (int, error) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get("/readyz"); code != 200 {
		t.Fatalf("readyz before: %d %v", code, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, err := get("/readyz")
		if code == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after SIGTERM: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range 13 {
		if code, err := get("/healthz"); code != 200 {
			t.Fatalf("request %d during the drain: %d %v", i, code, err)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
