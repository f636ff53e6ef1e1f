// Package apitest holds what every API test harness needs whatever router
// it drives: building a request the way a client sends one, and reading the
// whole response with checks of the documented error envelope
// (docs/architecture.md, "API conventions"). app/server's internal harness
// and the exported app/server/servertest both build on it.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Response is a whole response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Read reads res whole and closes its body.
func Read(res *http.Response) Response {
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// JSON decodes the body as a JSON object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object (status %d): %q", r.Status, r.Body)
	}
	return m
}

// ErrCode checks the body is the documented error envelope, its request_id
// the X-Request-ID header, and returns its code.
func (r Response) ErrCode(t testing.TB) string {
	t.Helper()
	m := r.JSON(t)
	if m["schema_version"] != float64(1) {
		t.Fatalf("no schema_version 1 in error body: %s", r.Body)
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.Body)
	}
	for _, k := range []string{"code", "message", "retryable", "details", "request_id"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("error envelope lacks %q: %s", k, r.Body)
		}
	}
	if e["request_id"] == "" || e["request_id"] != r.Header.Get("X-Request-ID") {
		t.Fatalf("request_id %v does not match X-Request-ID %q", e["request_id"], r.Header.Get("X-Request-ID"))
	}
	code, _ := e["code"].(string)
	return code
}

// NewRequest builds a request with an optional bearer credential; body may be
// nil, a string or []byte (sent as it is) or a value (sent as JSON). headers
// are name, value pairs. It asks for the connection to be closed: app.Test
// reuses one connection, and a handler that refuses a streamed body early
// would otherwise leave the rest of it to be parsed as the next request.
func NewRequest(t testing.TB, method, path, bearer string, body any, headers ...string) *http.Request {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Connection", "close")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// Body is a request body with its own content type, such as a multipart upload.
type Body struct {
	Reader      io.Reader
	ContentType string
}

// Call sends a request to a running server at base (a process under test,
// over the network) and reads the answer. body may be nil, a Body, an
// io.Reader (sent as JSON) or a value (marshalled as JSON). A 2xx body is
// decoded into out when out is not nil. It returns the status and the raw
// body; what a failing status means is the caller's to say.
func Call(t testing.TB, base, bearer, method, path string, body, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case Body:
		rd, ct = b.Reader, b.ContentType
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return res.StatusCode, raw
}
