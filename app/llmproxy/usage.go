package llmproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// parsedUsage is what a response said about its own cost.
type parsedUsage struct {
	model  string
	input  int64
	cached int64
	output int64
}

// wireUsage covers both dialects: Responses (input_tokens, output_tokens,
// input_tokens_details.cached_tokens) and Chat Completions (prompt_tokens,
// completion_tokens, prompt_tokens_details.cached_tokens).
type wireUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	InputDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	PromptDetails    struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func (w *wireUsage) toParsed(model string) parsedUsage {
	u := parsedUsage{model: model, input: w.InputTokens, output: w.OutputTokens, cached: w.InputDetails.CachedTokens}
	if u.input == 0 && u.output == 0 {
		u.input, u.output, u.cached = w.PromptTokens, w.CompletionTokens, w.PromptDetails.CachedTokens
	}
	// A hostile or buggy upstream must not make accounting negative.
	for _, v := range []*int64{&u.input, &u.output, &u.cached} {
		if *v < 0 {
			*v = 0
		}
	}
	return u
}

// usageDoc is the subset of a JSON body or SSE data line that carries usage:
// top level (plain responses, chat chunks) or under "response" (Responses
// API stream events such as response.completed).
type usageDoc struct {
	Type     string     `json:"type"`
	Model    string     `json:"model"`
	Usage    *wireUsage `json:"usage"`
	Response *struct {
		Model string     `json:"model"`
		Usage *wireUsage `json:"usage"`
	} `json:"response"`
}

func parseUsageDoc(b []byte) (parsedUsage, bool) {
	var d usageDoc
	if json.Unmarshal(b, &d) != nil {
		return parsedUsage{}, false
	}
	if d.Response != nil && d.Response.Usage != nil {
		return d.Response.Usage.toParsed(d.Response.Model), true
	}
	if d.Usage != nil {
		return d.Usage.toParsed(d.Model), true
	}
	return parsedUsage{}, false
}

// Limits of what the tap keeps in memory. A longer SSE line or JSON body is
// still streamed to the client in full; only its usage goes unread.
const (
	maxSSELine  = 16 << 20
	maxJSONBody = 16 << 20
)

// usageTap passes a response body through unchanged while looking for usage.
// It never holds back bytes: every Read returns what upstream sent, so a
// stream reaches the client chunk by chunk. onDone runs exactly once, at EOF
// or Close, whichever comes first (a client that disconnects mid-stream still
// gets its request accounted).
type usageTap struct {
	body     io.ReadCloser
	sse      bool
	buf      []byte // SSE: the current partial line; JSON: the body so far
	overflow bool   // SSE: skipping the rest of an over-long line; JSON: body too big
	usage    parsedUsage
	found    bool
	once     sync.Once
	onDone   func(u parsedUsage, found bool)
}

func (t *usageTap) Read(p []byte) (int, error) {
	n, err := t.body.Read(p)
	if n > 0 {
		t.feed(p[:n])
	}
	// Account before handing the last bytes on: a runner that has read the
	// whole answer and sends its next request must find the budget updated.
	if err == io.EOF || t.complete(p[:n]) {
		t.finish()
	}
	return n, err
}

// complete reports whether the response is known to be over before EOF: a
// stream delivered its usage (response.completed or the chat usage chunk is
// the last meaningful event) or a JSON body is whole.
func (t *usageTap) complete(chunk []byte) bool {
	if t.sse {
		return t.found
	}
	if t.overflow || len(t.buf) == 0 {
		return false
	}
	last := bytes.TrimRight(chunk, " \r\n\t")
	return len(last) > 0 && last[len(last)-1] == '}' && json.Valid(t.buf)
}

func (t *usageTap) Close() error {
	err := t.body.Close()
	t.finish()
	return err
}

func (t *usageTap) finish() {
	t.once.Do(func() {
		if !t.sse && !t.overflow && len(t.buf) > 0 {
			t.usage, t.found = parseUsageDoc(t.buf)
		}
		if t.sse && len(t.buf) > 0 && !t.overflow {
			t.line(t.buf)
		}
		t.buf = nil
		t.onDone(t.usage, t.found)
	})
}

func (t *usageTap) feed(b []byte) {
	if !t.sse {
		if t.overflow {
			return
		}
		if len(t.buf)+len(b) > maxJSONBody {
			t.overflow, t.buf = true, nil
			return
		}
		t.buf = append(t.buf, b...)
		return
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.appendPartial(b)
			return
		}
		if t.overflow {
			t.overflow = false
		} else if len(t.buf) == 0 {
			t.line(b[:i]) // common case: whole line inside one chunk, no copy
		} else {
			t.appendPartial(b[:i])
			if !t.overflow {
				t.line(t.buf)
			}
			t.overflow = false
		}
		t.buf = t.buf[:0]
		b = b[i+1:]
	}
}

func (t *usageTap) appendPartial(b []byte) {
	if t.overflow {
		return
	}
	if len(t.buf)+len(b) > maxSSELine {
		t.overflow, t.buf = true, t.buf[:0]
		return
	}
	t.buf = append(t.buf, b...)
}

// line inspects one SSE line. Only data lines that mention usage are decoded,
// so the many small delta events cost a prefix check and a substring scan.
func (t *usageTap) line(l []byte) {
	l = bytes.TrimSuffix(l, []byte("\r"))
	rest, ok := bytes.CutPrefix(l, []byte("data:"))
	if !ok || !bytes.Contains(rest, []byte(`"usage"`)) {
		return
	}
	if u, ok := parseUsageDoc(bytes.TrimSpace(rest)); ok && (u.input > 0 || u.output > 0 || !t.found) {
		t.usage, t.found = u, true
	}
}
