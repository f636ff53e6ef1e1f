// Package modelserver is a scripted local model server for tests. It speaks
// the OpenAI Responses API (SSE stream and plain JSON) and Chat Completions
// the way the Codex CLI expects (SPEC Appendix), answers from a script keyed
// on the request, and records every request for assertions.
package modelserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Usage is what an answer reports as consumed.
type Usage struct {
	InputTokens  int64
	CachedTokens int64
	OutputTokens int64
}

// ToolCall makes the answer a function call instead of a message (e.g. the
// Codex "shell" tool); Arguments is the raw JSON arguments string.
type ToolCall struct {
	Name      string
	Arguments string
}

// Answer is one scripted reply.
type Answer struct {
	Text     string    // output_text of the assistant message
	ToolCall *ToolCall // when set, replaces Text with a function_call item
	Usage    Usage
	// Status, when not 0 or 200, answers with that HTTP status and ErrorBody
	// (an OpenAI error JSON is generated when ErrorBody is empty).
	Status    int
	ErrorBody string
	// ChunkDelay spaces out the stream events (first-byte latency tests).
	ChunkDelay time.Duration
}

// Request is one recorded request.
type Request struct {
	Method, Path  string
	Header        http.Header
	Body          []byte
	Model         string
	Stream        bool
	SchemaName    string          // text.format.name of a Responses request
	Schema        json.RawMessage // text.format.schema
	Instructions  string
	InputText     string // every input_text/text content joined, for matching on prompts
	HasToolOutput bool   // the request carries a function_call_output (a follow-up turn)
}

// Script picks the answer to a request.
type Script func(Request) Answer

// Queue answers with the given answers in order, then repeats the last one.
func Queue(answers ...Answer) Script {
	var mu sync.Mutex
	i := 0
	return func(Request) Answer {
		mu.Lock()
		defer mu.Unlock()
		if len(answers) == 0 {
			return Answer{Status: 500}
		}
		a := answers[min(i, len(answers)-1)]
		i++
		return a
	}
}

// Server is a running scripted model server.
type Server struct {
	*httptest.Server
	script Script
	mu     sync.Mutex
	reqs   []Request
	seq    int
}

// New starts a server on a loopback port. Its base URL for clients is URL()+"/v1".
func New(script Script) *Server {
	s := &Server{script: script}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/responses", s.responses)
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, nil)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"test-model","object":"model","owned_by":"vega-tests"}]}`)
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the /v1 root clients are configured with.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns a copy of what was received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *Server) nextID(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s_%d", prefix, s.seq)
}

func (s *Server) record(r *http.Request, body []byte) Request {
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	var doc struct {
		Model        string          `json:"model"`
		Stream       bool            `json:"stream"`
		Instructions string          `json:"instructions"`
		Input        json.RawMessage `json:"input"`
		Messages     json.RawMessage `json:"messages"`
		Text         struct {
			Format struct {
				Type   string          `json:"type"`
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"schema"`
			} `json:"format"`
		} `json:"text"`
	}
	if len(body) > 0 && json.Unmarshal(body, &doc) == nil {
		req.Model, req.Stream, req.Instructions = doc.Model, doc.Stream, doc.Instructions
		if doc.Text.Format.Type == "json_schema" {
			req.SchemaName, req.Schema = doc.Text.Format.Name, doc.Text.Format.Schema
		}
		var texts []string
		collectText(doc.Input, &texts, &req.HasToolOutput)
		collectText(doc.Messages, &texts, &req.HasToolOutput)
		req.InputText = strings.Join(texts, "\n")
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	return req
}

// collectText walks input items / messages and gathers their text parts.
func collectText(raw json.RawMessage, out *[]string, toolOutput *bool) {
	if len(raw) == 0 {
		return
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		*out = append(*out, str)
		return
	}
	var items []struct {
		Type    string          `json:"type"`
		Content json.RawMessage `json:"content"`
		Text    string          `json:"text"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return
	}
	for _, it := range items {
		if it.Type == "function_call_output" || it.Type == "custom_tool_call_output" {
			*toolOutput = true
		}
		if it.Text != "" {
			*out = append(*out, it.Text)
		}
		collectText(it.Content, out, toolOutput)
	}
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	return b
}

func writeScriptedError(w http.ResponseWriter, a Answer) {
	body := a.ErrorBody
	if body == "" {
		body = fmt.Sprintf(`{"error":{"message":"scripted error %d","type":"server_error","code":"scripted"}}`, a.Status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, body)
}

// answer records r and picks its scripted Answer; a scripted error is
// written here and ok is false. Both API shapes start this way.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) (req Request, a Answer, ok bool) {
	req = s.record(r, readBody(r))
	a = s.script(req)
	if a.Status != 0 && a.Status != http.StatusOK {
		writeScriptedError(w, a)
		return req, a, false
	}
	return req, a, true
}

func (s *Server) responses(w http.ResponseWriter, r *http.Request) {
	req, a, ok := s.answer(w, r)
	if !ok {
		return
	}
	respID := s.nextID("resp")
	item := s.outputItem(a)
	usage := map[string]any{
		"input_tokens":          a.Usage.InputTokens,
		"input_tokens_details":  map[string]any{"cached_tokens": a.Usage.CachedTokens},
		"output_tokens":         a.Usage.OutputTokens,
		"output_tokens_details": map[string]any{"reasoning_tokens": 0},
		"total_tokens":          a.Usage.InputTokens + a.Usage.OutputTokens,
	}
	model := req.Model
	if model == "" {
		model = "test-model"
	}
	created := time.Now().Unix()
	final := map[string]any{
		"id": respID, "object": "response", "created_at": created, "status": "completed",
		"model": model, "output": []any{item}, "usage": usage,
	}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(final)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	seq := 0
	send := func(typ string, payload map[string]any) {
		payload["type"] = typ
		payload["sequence_number"] = seq
		seq++
		b, _ := json.Marshal(payload)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		if fl != nil {
			fl.Flush()
		}
		if a.ChunkDelay > 0 {
			time.Sleep(a.ChunkDelay)
		}
	}
	send("response.created", map[string]any{"response": map[string]any{
		"id": respID, "object": "response", "created_at": created, "status": "in_progress", "model": model, "output": []any{},
	}})
	added := cloneItem(item)
	added["status"] = "in_progress"
	if added["type"] == "message" {
		added["content"] = []any{}
	}
	send("response.output_item.added", map[string]any{"output_index": 0, "item": added})
	if a.ToolCall == nil {
		send("response.output_text.delta", map[string]any{"item_id": item["id"], "output_index": 0, "content_index": 0, "delta": a.Text})
	}
	send("response.output_item.done", map[string]any{"output_index": 0, "item": item})
	send("response.completed", map[string]any{"response": final})
}

func (s *Server) outputItem(a Answer) map[string]any {
	if a.ToolCall != nil {
		return map[string]any{
			"id": s.nextID("fc"), "type": "function_call", "status": "completed",
			"call_id": s.nextID("call"), "name": a.ToolCall.Name, "arguments": a.ToolCall.Arguments,
		}
	}
	return map[string]any{
		"id": s.nextID("msg"), "type": "message", "status": "completed", "role": "assistant",
		"content": []any{map[string]any{"type": "output_text", "text": a.Text, "annotations": []any{}}},
	}
}

func cloneItem(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	req, a, ok := s.answer(w, r)
	if !ok {
		return
	}
	id := s.nextID("chatcmpl")
	model := req.Model
	usage := map[string]any{
		"prompt_tokens": a.Usage.InputTokens, "completion_tokens": a.Usage.OutputTokens,
		"total_tokens":          a.Usage.InputTokens + a.Usage.OutputTokens,
		"prompt_tokens_details": map[string]any{"cached_tokens": a.Usage.CachedTokens},
	}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": id, "object": "chat.completion", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": a.Text}}},
			"usage": usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	chunk := func(m map[string]any) {
		m["id"], m["object"], m["model"] = id, "chat.completion.chunk", model
		b, _ := json.Marshal(m)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	chunk(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": a.Text}}}})
	chunk(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
	if strings.Contains(string(req.Body), `"include_usage":true`) {
		chunk(map[string]any{"choices": []any{}, "usage": usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}
