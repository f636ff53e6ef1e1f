package codex

import (
	"strings"
	"testing"
)

// Lines captured from @openai/codex 0.171.0 (`codex exec --json`).
var realLines = []string{
	`{"type":"thread.started","thread_id":"01a224ec-9a17-7090-a304-519122719d44"}`,
	`{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for ` + "`test-model`" + ` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}`,
	`{"type":"turn.started"}`,
	`{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"{\"components\":[]}"}}`,
	`{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":10,"cache_write_input_tokens":0,"output_tokens":20,"reasoning_output_tokens":0}}`,
	`{"type":"error","message":"Quota exceeded. Check your plan and billing details."}`,
	`{"type":"turn.failed","error":{"message":"Quota exceeded. Check your plan and billing details."}}`,
	`{"type":"item.started","item":{"id":"item_2","type":"command_execution","command":"bash -lc ls","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
	`{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"bash -lc ls","aggregated_output":"a.go\n","exit_code":0,"status":"completed"}}`,
	`{"type":"item.completed","item":{"id":"item_3","type":"reasoning","text":"**Looking at files**"}}`,
	`{"type":"item.completed","item":{"id":"item_4","type":"file_change","changes":[{"path":"x.go","kind":"update"}],"status":"failed"}}`,
	`{"type":"item.completed","item":{"id":"item_5","type":"mcp_tool_call","server":"s","tool":"t","status":"completed"}}`,
	`{"type":"item.completed","item":{"id":"item_6","type":"web_search","query":"cve"}}`,
	`{"type":"item.updated","item":{"id":"item_7","type":"todo_list","items":[{"text":"read","completed":true}]}}`,
}

func TestParseLineReadsEveryEventType(t *testing.T) {
	var types []string
	for _, l := range realLines {
		ev, err := ParseLine([]byte(l))
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		types = append(types, ev.Type)
		if ev.Item != nil {
			types = append(types, ev.Item.Type)
		}
	}
	got := strings.Join(types, ",")
	for _, want := range []string{"thread.started", "turn.started", "turn.completed", "turn.failed", "item.started", "item.updated", "item.completed", "agent_message", "reasoning", "command_execution", "file_change", "mcp_tool_call", "web_search", "todo_list"} {
		if !strings.Contains(got, want) {
			t.Errorf("type %s not parsed (%s)", want, got)
		}
	}
	ev, _ := ParseLine([]byte(realLines[4]))
	if ev.Usage == nil || ev.Usage.InputTokens != 100 || ev.Usage.CachedInputTokens != 10 || ev.Usage.OutputTokens != 20 {
		t.Errorf("usage = %+v", ev.Usage)
	}
	ev, _ = ParseLine([]byte(realLines[8]))
	if ev.Item.ExitCode == nil || *ev.Item.ExitCode != 0 || ev.Item.Command != "bash -lc ls" {
		t.Errorf("command item = %+v", ev.Item)
	}
	ev, _ = ParseLine([]byte(realLines[6]))
	if ev.errorText() == "" {
		t.Error("turn.failed without error text")
	}
}

func TestParseLineRejectsNonEvents(t *testing.T) {
	for _, l := range []string{"", "not json", "[]", `{"no":"type"}`, `"string"`, `{"type":""}`} {
		if _, err := ParseLine([]byte(l)); err == nil {
			t.Errorf("%q parsed as an event", l)
		}
	}
	ev, err := ParseLine([]byte(`{"type":"turn.completed","usage":{"input_tokens":-5,"cached_input_tokens":99,"output_tokens":-1}}`))
	if err != nil || ev.Usage.InputTokens != 0 || ev.Usage.CachedInputTokens != 0 || ev.Usage.OutputTokens != 0 {
		t.Errorf("negative usage not clamped: %+v %v", ev.Usage, err)
	}
	if ev, err := ParseLine([]byte(`{"type":"brand.new","item":{"type":"hologram"}}`)); err != nil || ev.Type != "brand.new" {
		t.Errorf("unknown types must parse: %v", err)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, l := range realLines {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"type":"turn.completed","usage":{"input_tokens":9223372036854775807}}`))
	f.Add([]byte(`{"type":"item.completed","item":null}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := ParseLine(line)
		if err != nil {
			return
		}
		if ev.Type == "" {
			t.Fatal("event without type accepted")
		}
		if u := ev.Usage; u != nil && (u.InputTokens < 0 || u.OutputTokens < 0 || u.CachedInputTokens < 0 || u.CachedInputTokens > u.InputTokens) {
			t.Fatalf("usage not clamped: %+v", u)
		}
		_ = ev.errorText()
	})
}
