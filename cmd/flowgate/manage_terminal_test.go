package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLogsDoNotDriveTheTerminal: a workflow's console lines carry
// whatever its code or its event put there. `flowgate logs` prints them
// to an operator's terminal, so escape sequences (OSC 52 writes the
// clipboard, CSI moves the cursor and erases), carriage returns (which
// overwrite the line with a fake one) and bidi overrides must come out as
// visible text, not act.
func TestLogsDoNotDriveTheTerminal(t *testing.T) {
	t.Parallel()
	s := startService(t)
	out := &lineWriter{ch: make(chan struct{}, 1)}
	r, _, code, ok := parseRemote("logs", []string{"--server", s.url, "--token", s.token}, out, out)
	if !ok {
		t.Fatalf("parse: %d", code)
	}
	r.pollEvery = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- r.followLogs(ctx, url.Values{"kind": {"runtime"}}) }()
	id := `kp_\u001b]52;c;ZXZpbA==\u0007\r\u001b[2Jfake outcome\u009b31m\u202eend`
	req, _ := http.NewRequest("POST", s.url+"/api/v1/environments/production/triggers/user:tokens_generation",
		strings.NewReader(`{"context":{"user":{"id":"`+id+`"},"workflow":{"trigger":"user:tokens_generation"}}}`))
	req.Header.Set("Authorization", "Bearer runtime-token-for-tests")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("trigger: %v %v", err, resp)
	}
	resp.Body.Close()
	for !strings.Contains(out.String(), "end") {
		<-out.ch
	}
	cancel()
	<-done
	text := out.String()
	for _, bad := range []string{"\x1b", "\x07", "\r", "\u009b", "\u202e"} {
		if strings.Contains(text, bad) {
			t.Errorf("the output carries %q raw:\n%q", bad, text)
		}
	}
	if !strings.Contains(text, "fake outcome") {
		t.Errorf("the line's text is lost:\n%q", text)
	}
}
