package githubapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/httpjson"
)

// MaxPayloadBytes is GitHub's own cap on a webhook payload (25 MB).
const MaxPayloadBytes = 25 << 20

// Delivery is one webhook delivery, verified and ready to be queued.
type Delivery struct {
	ID      string          `json:"id"`    // X-GitHub-Delivery
	Event   string          `json:"event"` // X-GitHub-Event
	Payload json.RawMessage `json:"payload"`
}

// Queue stores a delivery as a durable job. duplicate is true when a
// delivery with this id was already stored (a redelivery or a replay), in
// which case nothing new is queued.
type Queue interface {
	EnqueueDelivery(ctx context.Context, d Delivery) (duplicate bool, err error)
}

// DefaultBodyReads bounds how many webhook bodies are read at once: each
// may be 25 MB, and only a verified signature makes one worth keeping.
const DefaultBodyReads = 4

// WebhookHandler serves POST /webhooks/github. Before it reads a byte of
// the body it checks the headers a GitHub delivery always carries (a
// well-formed X-Hub-Signature-256, the delivery id, the event) and the
// declared length; it reads at most DefaultBodyReads bodies at once; then
// it checks the HMAC-SHA256 signature on the raw body, records the
// delivery id so a delivery never runs twice, queues it and answers at
// once: the work happens in the job worker.
type WebhookHandler struct {
	Secret []byte
	Queue  Queue
	Log    *slog.Logger
	slots  chan struct{}
}

// NewWebhookHandler refuses an empty secret: without one anybody could
// deploy code by posting a push event.
func NewWebhookHandler(secret []byte, q Queue, log *slog.Logger) (*WebhookHandler, error) {
	if len(secret) == 0 {
		return nil, errors.New("the GitHub integration needs a webhook secret (FLOWGATE_GITHUB_WEBHOOK_SECRET)")
	}
	if log == nil {
		log = slog.Default()
	}
	return &WebhookHandler{Secret: secret, Queue: q, Log: log, slots: make(chan struct{}, DefaultBodyReads)}, nil
}

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpjson.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", "webhooks are POSTed")
		return
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	if err := signatureShape(sig); err != nil {
		h.Log.Warn("webhook refused", "reason", err.Error(), "delivery_id", safeHeader(r.Header.Get("X-GitHub-Delivery")))
		httpjson.Error(w, http.StatusUnauthorized, "bad_signature", err.Error())
		return
	}
	id := r.Header.Get("X-GitHub-Delivery")
	event := r.Header.Get("X-GitHub-Event")
	if !validToken(id, 100) || !validToken(event, 64) {
		httpjson.Error(w, http.StatusBadRequest, "bad_headers", "X-GitHub-Delivery and X-GitHub-Event are required")
		return
	}
	if r.ContentLength > MaxPayloadBytes {
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "payload_too_large", "the payload is larger than 25 MB")
		return
	}
	if !Handles(event) {
		// Nothing is done for it, so its body is never read.
		httpjson.Write(w, http.StatusAccepted, map[string]string{"status": "ignored", "event": event})
		return
	}
	if h.slots != nil {
		select {
		case h.slots <- struct{}{}:
		default:
			select {
			case h.slots <- struct{}{}:
			case <-r.Context().Done():
				httpjson.Error(w, http.StatusServiceUnavailable, "busy", "too many deliveries at once; redeliver it later")
				return
			}
		}
		defer func() { <-h.slots }()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayloadBytes))
	if err != nil {
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "payload_too_large", "the payload is larger than 25 MB or could not be read")
		return
	}
	if err := VerifySignature(h.Secret, body, sig); err != nil {
		h.Log.Warn("webhook refused", "reason", err.Error(), "delivery_id", id)
		httpjson.Error(w, http.StatusUnauthorized, "bad_signature", err.Error())
		return
	}
	if !json.Valid(body) {
		httpjson.Error(w, http.StatusBadRequest, "bad_payload", "the payload is not JSON")
		return
	}
	dup, err := h.Queue.EnqueueDelivery(r.Context(), Delivery{ID: id, Event: event, Payload: body})
	if err != nil {
		h.Log.Error("queue webhook delivery", "delivery_id", id, "event", event, "err", err)
		// 5xx: GitHub shows the failure and the delivery can be redelivered.
		httpjson.Error(w, http.StatusServiceUnavailable, "queue_unavailable", "the delivery could not be stored; redeliver it later")
		return
	}
	if dup {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "duplicate", "delivery": id})
		return
	}
	httpjson.Write(w, http.StatusAccepted, map[string]string{"status": "queued", "delivery": id})
}

// signatureShape checks that an X-Hub-Signature-256 header can be a
// signature at all ("sha256=" and 64 hex digits), without the body.
func signatureShape(header string) error {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return errors.New("missing or malformed X-Hub-Signature-256 header")
	}
	if got, err := hex.DecodeString(hexSig); err != nil || len(got) != sha256.Size {
		return errors.New("malformed X-Hub-Signature-256 header")
	}
	return nil
}

// VerifySignature checks an X-Hub-Signature-256 header ("sha256=<hex>")
// against body, in constant time (go-github's HMAC check).
func VerifySignature(secret, body []byte, header string) error {
	if err := signatureShape(header); err != nil {
		return err
	}
	if err := github.ValidateSignature(header, body, secret); err != nil {
		return errors.New("the signature does not match the payload")
	}
	return nil
}

// validToken accepts the short header values GitHub sends: letters,
// digits, '-', '_' and '.'.
func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// safeHeader is a header value fit for a log line.
func safeHeader(s string) string {
	if validToken(s, 100) {
		return s
	}
	return fmt.Sprintf("(invalid, %d bytes)", len(s))
}
