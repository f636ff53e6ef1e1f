package api

import (
	"io"
	"time"

	"github.com/gofiber/fiber/v2"
)

// prefetchedBody is how much of a body fasthttp reads before the handler
// runs when bodies are streamed (StreamRequestBody): min(Content-Length, 8 KiB).
const prefetchedBody = 8 << 10

// A client still sending when the connection closes gets a reset, which can
// reach it before the answer does. Like net/http's lingering close, up to
// lingerBytes of the rest are read and dropped first, for at most
// lingerTimeout, so a request refused near its end gets its answer.
const (
	lingerBytes   = 256 << 10
	lingerTimeout = 500 * time.Millisecond
)

// closeAfterUnreadBody closes the connection after a request whose body
// was streamed and may not have been read to its end: a handler that
// refuses an upload early, or a route that ignores its body. fasthttp does
// not drain such a body, and the unread rest would be parsed as the next
// request on the connection — behind a proxy that reuses connections, as
// another client's request (HTTP desync). A body the handler buffered
// (c.Body) or one that fit in the prefetch is already off the wire.
func closeAfterUnreadBody(c *fiber.Ctx) error {
	err := c.Next()
	req := c.Request()
	if n := req.Header.ContentLength(); req.IsBodyStream() && (n > prefetchedBody || n == -1) {
		c.Context().SetConnectionClose()
		if conn := c.Context().Conn(); conn != nil {
			_ = conn.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.CopyN(io.Discard, req.BodyStream(), lingerBytes)
		}
	}
	return err
}
