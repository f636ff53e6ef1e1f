package queue

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Memory is an in-process Queue with SQS's visibility semantics, for tests.
type Memory struct {
	Visibility time.Duration // default 30s
	Now        func() time.Time

	mu    sync.Mutex
	next  int
	msgs  map[string]*memMsg
	wake  chan struct{}
	sends int
}

type memMsg struct {
	id        string
	body      string
	visibleAt time.Time
	receipt   string
	count     int
}

// NewMemory returns an empty queue.
func NewMemory(visibility time.Duration) *Memory {
	return &Memory{Visibility: visibility, Now: time.Now, msgs: map[string]*memMsg{}, wake: make(chan struct{}, 1)}
}

func (q *Memory) Send(ctx context.Context, body string, delay time.Duration) error {
	q.mu.Lock()
	q.next++
	q.sends++
	id := strconv.Itoa(q.next)
	q.msgs[id] = &memMsg{id: id, body: body, visibleAt: q.Now().Add(delay)}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Sends counts Send calls.
func (q *Memory) Sends() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sends
}

// Len counts messages not deleted, visible or not.
func (q *Memory) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

func (q *Memory) Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		if out := q.take(max); len(out) > 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, nil
		case <-q.wake:
		case <-time.After(50 * time.Millisecond): // delayed and returning messages
		}
	}
}

func (q *Memory) take(max int) []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.Now()
	var out []Message
	for _, m := range q.msgs {
		if len(out) == max {
			break
		}
		if now.Before(m.visibleAt) {
			continue
		}
		q.next++
		m.receipt = strconv.Itoa(q.next)
		m.count++
		m.visibleAt = now.Add(q.Visibility)
		out = append(out, Message{ID: m.id, Body: m.body, Receipt: m.receipt, ReceiveCount: m.count})
	}
	return out
}

func (q *Memory) Extend(ctx context.Context, m Message, visibility time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if x, ok := q.msgs[m.ID]; ok && x.receipt == m.Receipt {
		x.visibleAt = q.Now().Add(visibility)
	}
	return nil
}

func (q *Memory) Delete(ctx context.Context, m Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if x, ok := q.msgs[m.ID]; ok && x.receipt == m.Receipt {
		delete(q.msgs, m.ID)
	}
	return nil
}

func (q *Memory) VisibilityTimeout(ctx context.Context) (time.Duration, error) {
	return q.Visibility, nil
}
