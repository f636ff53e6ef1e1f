// Package queue is the scan queue at the edge of the sqs dispatcher
// (docs/aws.md, "SQS dispatch"): messages that only wake workers, since the
// database is the source of truth. The real implementation is SQS
// (./sqsqueue); Memory is the in-process one for tests.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one received message. Receipt identifies this delivery for
// Extend and Delete; ReceiveCount counts deliveries (a message that keeps
// failing goes to the dead-letter queue after the queue's limit).
type Message struct {
	ID           string
	Body         string
	Receipt      string
	ReceiveCount int
}

// Queue is a work queue with visibility timeouts (SQS semantics: a received
// message is hidden for the visibility timeout, then delivered again unless
// deleted; delivery is at least once).
type Queue interface {
	Send(ctx context.Context, body string, delay time.Duration) error
	// Receive waits up to wait for at most max messages.
	Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error)
	// Extend hides a received message for visibility from now on.
	Extend(ctx context.Context, m Message, visibility time.Duration) error
	Delete(ctx context.Context, m Message) error
	// VisibilityTimeout is the queue's default visibility timeout; it is
	// also the readiness check of the queue.
	VisibilityTimeout(ctx context.Context) (time.Duration, error)
}

// ScanMessage is the body of a scan message: {"scan_id": …}. Retry counts
// re-sends after the runner could not be launched, for the backoff.
type ScanMessage struct {
	ScanID string `json:"scan_id"`
	Retry  int    `json:"retry,omitempty"`
}

// Encode is the JSON body of m.
func (m ScanMessage) Encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// ErrMalformed wraps every reason a body is not a scan message.
var ErrMalformed = errors.New("malformed scan message")

// DecodeScanMessage parses a body; ErrMalformed when it is not a JSON object
// with a plausible scan ID.
func DecodeScanMessage(body string) (ScanMessage, error) {
	var m ScanMessage
	d := json.NewDecoder(strings.NewReader(body))
	if err := d.Decode(&m); err != nil {
		return m, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !strings.HasPrefix(m.ScanID, "scan_") || len(m.ScanID) > 64 || m.Retry < 0 {
		return m, fmt.Errorf("%w: no valid scan_id", ErrMalformed)
	}
	return m, nil
}
