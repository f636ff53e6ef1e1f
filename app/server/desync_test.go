package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A request refused before its body was read must not leave the rest of the
// body on the connection to be parsed as the next request: behind a proxy
// that reuses connections, that rest would run as someone's request
// (HTTP desync). fasthttp streams bodies and prefetches 8 KiB; the bytes
// past that are what a handler may leave unread.
func TestUnreadBodyIsNeverParsedAsTheNextRequest(t *testing.T) {
	h, tok := rootHarness(t)
	prj := h.project(tok, "p")
	addr := h.serve()
	host := h.env.Config.ListenAddr
	for _, size := range []int{8 << 10, 12 << 10, 64 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			smuggled := "GET /v1/smuggled HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
			head := "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
			// A name part longer than allowed: the handler stops reading it.
			body := head + strings.Repeat("n", size-len(head)) + smuggled
			req := fmt.Sprintf("POST /v1/projects/%s/repositories HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n%s", prj, host, tok, len(body), body)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			// Ends when the server closes the connection: cleanly, or with a
			// reset because the client's bytes were left unread.
			out, err := io.ReadAll(c)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection open after refusing the body:\n%s", out)
			}
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatal(err)
			}
			if n := bytes.Count(out, []byte("HTTP/1.1 ")); n > 1 || bytes.Contains(out, []byte("No such route")) {
				t.Fatalf("the rest of the body was answered as a request:\n%s", out)
			}
			if err == nil && !bytes.Contains(out, []byte("validation_failed")) {
				t.Fatalf("no refusal:\n%s", out)
			}
		})
	}
}
