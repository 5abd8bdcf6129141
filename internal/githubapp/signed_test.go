package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// webhookSecret signs the deliveries post sends.
var webhookSecret = []byte("It's a Secret to Everybody")

// post delivers a payload as GitHub does: signed, through the webhook
// endpoint, into a queue that runs the delivery at once (as the job
// worker would). It fails the test unless the endpoint accepts it; the
// handler's error is returned.
func (h *harness) post(event string, payload []byte) error {
	h.t.Helper()
	n := h.seq.Add(1)
	q := &runQueue{h: h, at: h.clock.Add(time.Duration(n) * time.Second)}
	wh, err := NewWebhookHandler(webhookSecret, q, quiet())
	if err != nil {
		h.t.Fatal(err)
	}
	req := githubtest.Delivery("/webhooks/github", event, fmt.Sprintf("delivery-%d", n), payload, webhookSecret)
	rec := httptest.NewRecorder()
	wh.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		h.t.Fatalf("POST %s: %d %s", event, rec.Code, rec.Body)
	}
	return q.err
}

type runQueue struct {
	h   *harness
	at  time.Time
	err error
}

func (q *runQueue) EnqueueDelivery(ctx context.Context, d Delivery) (bool, error) {
	q.err = q.h.app.Handle(ctx, DeliveryArgs{ID: d.ID, Event: d.Event, Payload: d.Payload, ReceivedAt: q.at})
	return false, nil
}
