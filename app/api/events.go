package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

func (h eventsAPI) routes() []Route {
	return []Route{
		Route{"GET", "/scans/:id/events", eventsAfter(h.list), Op{Summary: "List a scan's events after a seq (poll with the last seq you have)",
			Response: List[store.Event]{}, Query: []string{"after_seq", "limit"}}},
		Route{"GET", "/repositories/:id/events", eventsAfter(h.listForRepository), Op{Summary: "Events of the repository's latest scan (or ?scan_id= of one of its scans), after a seq",
			Response: List[store.Event]{}, Query: []string{"scan_id", "after_seq", "limit"}}},
		Route{"GET", "/scans/:id/events/stream", h.stream, Op{Summary: "Stream a scan's events as Server-Sent Events (id: seq; resumes from Last-Event-ID or ?last_event_id=; also accepts ?access_token=)",
			Description: sseStreamDoc, QueryToken: true, Query: []string{"last_event_id"}, Produces: "text/event-stream"}},
	}
}

// sseStreamDoc is the stream's OpenAPI description.
const sseStreamDoc = "Each event is a frame `id: <seq>`, `event: <kind>`, `data: <event JSON>` (the same JSON as the polling endpoint). " +
	"The stream ends after the scan's terminal event (scan_completed, scan_failed, scan_cancelled). " +
	"When the server shuts down (SIGTERM, a deploy) it sends a last frame `event: reconnect` with `data: {\"reason\":\"server_shutdown\"}` " +
	"and no id, then closes: reconnect with Last-Event-ID set to the last seq you received (EventSource does so by itself after `retry`; " +
	"a client that closes its EventSource on errors must open a new one). Comment lines (`: keepalive`) keep idle connections open."

// SSE timing: a comment line keeps proxies from closing an idle stream; the
// poll catches events written by other processes (external workers), which
// this process's broker never hears about; the lifetime cap lets servers
// shut down and rebalance, and EventSource reconnects with Last-Event-ID.
const (
	sseHeartbeat   = 15 * time.Second
	ssePoll        = 2 * time.Second
	sseMaxLifetime = 30 * time.Minute
	// sseRecheck is how often an open stream re-checks the credential it was
	// opened with, so a revoked key, a logout or a password change ends it
	// within seconds instead of at the lifetime cap (docs/auth.md).
	sseRecheck = 3 * time.Second
)

func parseSeq(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, apperr.Validation(map[string]string{name: "must be a whole number ≥ 0"})
	}
	return n, nil
}

type eventsAPI struct {
	svc     *scans.Service
	auth    *auth.Service
	closing *closing
}

// closing is closed once, when the server begins to shut down.
type closing struct {
	once sync.Once
	ch   chan struct{}
}

// BeginShutdown ends every open event stream with a final "reconnect" event
// (sseReconnect) so clients reconnect, to another instance or to this one
// after its restart, from the last seq they got. The server calls it first
// on SIGTERM: an open stream would otherwise hold the HTTP shutdown until
// its timeout. Safe to call more than once.
func (r *Router) BeginShutdown() {
	if r.closing != nil {
		r.closing.once.Do(func() { close(r.closing.ch) })
	}
}

// sseReconnect is the last frame of a stream the server ends because it is
// shutting down (README, "API"; sseStreamDoc): no id (Last-Event-ID stays the
// last event's seq), and a short retry so EventSource comes back quickly.
const sseReconnect = "retry: 1000\nevent: reconnect\ndata: {\"reason\":\"server_shutdown\"}\n\n"

// eventPage parses ?after_seq= and ?limit=.
func eventPage(c *fiber.Ctx) (after int64, limit int, err error) {
	if after, err = parseSeq("after_seq", c.Query("after_seq")); err != nil {
		return 0, 0, err
	}
	p, err := PageParams(c)
	return after, p.Limit, err
}

// eventList is a page of events; the next cursor is the last seq of a full page.
func eventList(evs []store.Event, limit int) List[store.Event] {
	next := ""
	if len(evs) == limit {
		next = strconv.FormatInt(evs[len(evs)-1].Seq, 10)
	}
	return NewList(evs, next)
}

// eventsAfter answers the page of events fetch reads after ?after_seq=.
func eventsAfter(fetch func(c *fiber.Ctx, after int64, limit int) ([]store.Event, error)) fiber.Handler {
	return answer(func(c *fiber.Ctx) (List[store.Event], error) {
		after, limit, err := eventPage(c)
		if err != nil {
			return List[store.Event]{}, err
		}
		evs, err := fetch(c, after, limit)
		if err != nil {
			return List[store.Event]{}, err
		}
		return eventList(evs, limit), nil
	})
}

func (h eventsAPI) list(c *fiber.Ctx, after int64, limit int) ([]store.Event, error) {
	return h.svc.Events(c.UserContext(), Scope(c), c.Params("id"), after, limit)
}

func (h eventsAPI) listForRepository(c *fiber.Ctx, after int64, limit int) ([]store.Event, error) {
	return h.svc.RepositoryEvents(c.UserContext(), Scope(c), c.Params("id"), c.Query("scan_id"), after, limit)
}

func (h eventsAPI) stream(c *fiber.Ctx) error {
	last, err := parseSeq("Last-Event-ID", c.Get("Last-Event-ID"))
	if err != nil {
		return err
	}
	if q := c.Query("last_event_id"); q != "" && c.Get("Last-Event-ID") == "" {
		if last, err = parseSeq("last_event_id", q); err != nil {
			return err
		}
	}
	feed, err := h.svc.OpenFeed(c.UserContext(), Scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	authn, cred := h.auth, Credential(c)
	stillAuthorized := func(ctx context.Context) bool {
		_, err := authn.Authenticate(ctx, cred)
		return err == nil
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), sseMaxLifetime)
		defer cancel()
		wake, stop := feed.Watch()
		defer stop()
		streamEvents(ctx, w, feed, last, wake, stillAuthorized, h.closing.ch)
	})
	return nil
}

// streamEvents writes events after seq last until the terminal event, the
// client leaves (a write fails), ctx ends or stillAuthorized says no. When
// closing closes it writes sseReconnect and ends.
func streamEvents(ctx context.Context, w *bufio.Writer, feed *scans.Feed, last int64, wake <-chan struct{},
	stillAuthorized func(context.Context) bool, closing <-chan struct{}) {
	// "retry" makes EventSource reconnect quickly after the lifetime cap.
	fmt.Fprint(w, "retry: 2000\n\n")
	if w.Flush() != nil {
		return
	}
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	poll := time.NewTicker(ssePoll)
	defer poll.Stop()
	// Checks are due on a fixed grid that the ticker's ticks never precede,
	// and are made at the top of the loop, not only on a tick, so a long
	// replay of a big backlog cannot postpone one. Ending the response is all
	// a revoked client gets: EventSource reconnects and that request is refused.
	checkAt := time.Now().Add(sseRecheck)
	recheck := time.NewTicker(sseRecheck)
	defer recheck.Stop()
	for {
		if now := time.Now(); !now.Before(checkAt) {
			if !stillAuthorized(ctx) {
				return
			}
			for !checkAt.After(now) {
				checkAt = checkAt.Add(sseRecheck)
			}
		}
		evs, err := feed.After(ctx, last, store.MaxLimit)
		if err != nil {
			return
		}
		for _, ev := range evs {
			// data is the whole event, as the polling endpoint returns it;
			// Marshal compacts the payload, so no newline can break the frame.
			data, err := json.Marshal(ev)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Kind, data)
			last = ev.Seq
			if ev.Kind.Terminal() {
				_ = w.Flush()
				return
			}
		}
		if len(evs) > 0 {
			if w.Flush() != nil {
				return
			}
			if len(evs) == store.MaxLimit {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-closing:
			fmt.Fprint(w, sseReconnect)
			_ = w.Flush()
			return
		case <-wake:
		case <-recheck.C: // wakes an idle stream for the check at the top
		case <-poll.C:
			// A scan that ended without a terminal event (its runner died
			// between the two writes) must not keep the stream open forever.
			if feed.Ended(ctx, last) {
				return
			}
		case <-beat.C:
			fmt.Fprint(w, ": keepalive\n\n")
			if w.Flush() != nil {
				return
			}
		}
	}
}
