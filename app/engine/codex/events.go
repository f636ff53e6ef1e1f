package codex

import (
	"encoding/json"
	"errors"
)

// Event is one line of `codex exec --json` output. Only the fields Vega uses
// are decoded; unknown event and item types parse fine and are ignored by the
// caller, so a newer CLI adding events does not break scans.
type Event struct {
	Type     string     `json:"type"`
	ThreadID string     `json:"thread_id,omitempty"`
	Usage    *TurnUsage `json:"usage,omitempty"`
	Item     *Item      `json:"item,omitempty"`
	// Message is set on the top-level "error" event.
	Message string `json:"message,omitempty"`
	// Error is set on "turn.failed".
	Error *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Event types of the Codex CLI's JSONL stream.
const (
	EventThreadStarted = "thread.started"
	EventTurnStarted   = "turn.started"
	EventTurnCompleted = "turn.completed"
	EventTurnFailed    = "turn.failed"
	EventItemStarted   = "item.started"
	EventItemUpdated   = "item.updated"
	EventItemCompleted = "item.completed"
	EventError         = "error"
)

// Item types carried by item.* events.
const (
	ItemAgentMessage     = "agent_message"
	ItemReasoning        = "reasoning"
	ItemCommandExecution = "command_execution"
	ItemFileChange       = "file_change"
	ItemMCPToolCall      = "mcp_tool_call"
	ItemWebSearch        = "web_search"
	ItemTodoList         = "todo_list"
	ItemError            = "error"
)

// TurnUsage is the usage of one turn (turn.completed).
type TurnUsage struct {
	InputTokens       int64 `json:"input_tokens"`
	CachedInputTokens int64 `json:"cached_input_tokens"`
	OutputTokens      int64 `json:"output_tokens"`
}

// Item is a thread item; which fields are set depends on Type.
type Item struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// agent_message, reasoning
	Text string `json:"text,omitempty"`
	// command_execution
	Command          string `json:"command,omitempty"`
	AggregatedOutput string `json:"aggregated_output,omitempty"`
	ExitCode         *int   `json:"exit_code,omitempty"`
	Status           string `json:"status,omitempty"`
	// file_change
	Changes []struct {
		Path string `json:"path"`
		Kind string `json:"kind"`
	} `json:"changes,omitempty"`
	// mcp_tool_call
	Server string `json:"server,omitempty"`
	Tool   string `json:"tool,omitempty"`
	// web_search
	Query string `json:"query,omitempty"`
	// todo_list
	Items []struct {
		Text      string `json:"text"`
		Completed bool   `json:"completed"`
	} `json:"items,omitempty"`
	// error
	Message string `json:"message,omitempty"`
}

var errNotEvent = errors.New("codex: line is not a JSON event")

// ParseLine decodes one JSONL line. Lines that are not a JSON object with a
// type (Codex prints nothing else on stdout, but a wrapper script might) are
// errNotEvent. Negative token counts are clamped to zero: usage feeds billing.
func ParseLine(line []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(line, &ev); err != nil || ev.Type == "" {
		return Event{}, errNotEvent
	}
	if u := ev.Usage; u != nil {
		u.InputTokens = max(u.InputTokens, 0)
		u.CachedInputTokens = min(max(u.CachedInputTokens, 0), u.InputTokens)
		u.OutputTokens = max(u.OutputTokens, 0)
	}
	return ev, nil
}

// errorText is the failure message an event carries, if any.
func (ev Event) errorText() string {
	switch ev.Type {
	case EventError:
		return ev.Message
	case EventTurnFailed:
		if ev.Error != nil {
			return ev.Error.Message
		}
		return "turn failed"
	}
	return ""
}
