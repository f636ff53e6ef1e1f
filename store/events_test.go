package store_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// jsonOf encodes v and decodes the encoding back into a generic value, so
// two values compare by their JSON and not by Go type or key order.
func jsonOf(t *testing.T, v any) (encoded []byte, value any) {
	t.Helper()
	encoded, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(encoded, &value)
	}
	if err != nil {
		t.Fatal(err)
	}
	return encoded, value
}

// TestEveryKindHasOnePayload: each kind decodes into a payload type that
// names that kind back, and every payload is a JSON object (SPEC: payloads
// are objects; the dashboard reads fields off them).
func TestEveryKindHasOnePayload(t *testing.T) {
	seen := map[reflect.Type]store.EventKind{}
	for _, k := range store.EventKinds {
		p, ok := store.NewEventPayload(k)
		if !ok {
			t.Fatalf("kind %s has no payload type", k)
		}
		if p.EventKind() != k {
			t.Errorf("the payload of %s says it is %s", k, p.EventKind())
		}
		if prev, dup := seen[reflect.TypeOf(p)]; dup {
			t.Errorf("%s and %s share the payload type %T", prev, k, p)
		}
		seen[reflect.TypeOf(p)] = k
		if b, _ := jsonOf(t, p); b[0] != '{' {
			t.Errorf("%s payload encodes as %s, not an object", k, b)
		}
	}
	if _, ok := store.NewEventPayload("scan_exploded"); ok {
		t.Fatal("an unknown kind has no payload")
	}
	if _, err := (store.Event{Kind: "scan_exploded", Payload: []byte(`{}`)}).DecodePayload(); err == nil {
		t.Fatal("decoding an unknown kind is an error")
	}
	for _, k := range []store.EventKind{store.EventScanCompleted, store.EventScanFailed, store.EventScanCancelled} {
		if !k.Terminal() {
			t.Errorf("%s is terminal", k)
		}
	}
	for _, k := range []store.EventKind{store.EventScanStarted, store.EventScanProgress, store.EventScanLog, store.EventFindingUpdated, store.EventUsage} {
		if k.Terminal() {
			t.Errorf("%s is not terminal", k)
		}
	}
}

// TestPayloadWireFormatUnchanged: the typed payloads encode exactly as the
// maps they replaced (compared as JSON values), so the dashboard, exports
// and stored events see no difference. scan_cancelled is the one deliberate
// change: "by" now always says user or system, and user_id says who.
func TestPayloadWireFormatUnchanged(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	f := store.Finding{ID: "fnd_1", ScanID: "scan_1", RepositoryID: "repo_1", ProjectID: "prj_1", OwnerUserID: "usr_hidden",
		Fingerprint: "fp", Engine: "secrets", Title: "AWS key", Severity: store.SeverityHigh, CWE: []string{"CWE-798"},
		FilePath: "a.env", StartLine: 2, EndLine: 2, Status: store.FindingOpen, CreatedAt: at, UpdatedAt: at}
	counts := store.SeverityCounts{High: 1}
	for name, c := range map[string]struct {
		typed  store.EventPayload
		before any
	}{
		"scan_started": {store.ScanStartedPayload{Engines: []string{"secrets"}, SnapshotID: "snap_1", FileCount: 3, Attempt: 1},
			map[string]any{"engines": []string{"secrets"}, "snapshot_id": "snap_1", "file_count": 3, "attempt": 1}},
		"scan_progress": {store.ScanProgressPayload{Percent: 40, Message: "m", Component: "api", ComponentsDone: 1, ComponentsTotal: 3},
			store.ScanProgress{Percent: 40, Message: "m", Component: "api", ComponentsDone: 1, ComponentsTotal: 3}},
		"scan_log": {store.ScanLogPayload{Level: store.LogWarn, Message: "m", Engine: ""},
			map[string]any{"level": "warn", "engine": "", "message": "m"}},
		"finding_updated": {store.FindingUpdatedPayload{Key: "k1", Finding: f}, struct {
			Key string `json:"key,omitempty"`
			*store.Finding
		}{Key: "k1", Finding: &f}},
		"usage": {store.UsagePayload{Model: "gpt", Usage: store.Usage{Requests: 1, InputTokens: 10, CachedInputTokens: 2, OutputTokens: 5, CostUSD: 0.01}},
			map[string]any{"model": "gpt", "requests": 1, "input_tokens": 10, "cached_input_tokens": 2, "output_tokens": 5, "cost_usd": 0.01}},
		"scan_completed": {store.ScanCompletedPayload{FindingCounts: counts, DurationMS: 1200},
			map[string]any{"finding_counts": counts, "duration_ms": 1200}},
		"scan_completed with stop reason": {store.ScanCompletedPayload{FindingCounts: counts, DurationMS: 1200, StopReason: store.StopBudgetExceeded},
			map[string]any{"finding_counts": counts, "duration_ms": 1200, "stop_reason": "budget_exceeded"}},
		"scan_failed": {store.ScanFailedPayload{Code: store.ScanErrInterrupted, Message: "m"},
			map[string]any{"code": "interrupted", "message": "m"}},
	} {
		_, got := jsonOf(t, c.typed)
		_, want := jsonOf(t, c.before)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: typed payload encodes as %v, before it was %v", name, got, want)
		}
	}
	if got, _ := jsonOf(t, store.ScanCancelledPayload{By: store.CancelledByUser, UserID: "usr_1"}); string(got) != `{"by":"user","user_id":"usr_1"}` {
		t.Errorf("scan_cancelled by a user: %s", got)
	}
}

// TestStoredEventsDecode: events written by earlier versions decode into
// the typed payloads.
func TestStoredEventsDecode(t *testing.T) {
	for _, c := range []struct {
		kind    store.EventKind
		payload string
		want    store.EventPayload
	}{
		{store.EventScanCancelled, `{"by":"usr_01J"}`, &store.ScanCancelledPayload{By: "usr_01J"}},
		{store.EventScanCancelled, `{"by":"system"}`, &store.ScanCancelledPayload{By: store.CancelledBySystem}},
		{store.EventScanStarted, `{"engines":["secrets"],"snapshot_id":"snap_1","file_count":2}`,
			&store.ScanStartedPayload{Engines: []string{"secrets"}, SnapshotID: "snap_1", FileCount: 2}},
		{store.EventUsage, `{"cached_input_tokens":2,"cost_usd":0.5,"input_tokens":10,"model":"m","output_tokens":3,"requests":1}`,
			&store.UsagePayload{Model: "m", Usage: store.Usage{Requests: 1, InputTokens: 10, CachedInputTokens: 2, OutputTokens: 3, CostUSD: 0.5}}},
		{store.EventScanLog, `{"engine":"codex","level":"error","message":"boom"}`,
			&store.ScanLogPayload{Level: store.LogError, Engine: "codex", Message: "boom"}},
		{store.EventFindingUpdated, `{"key":"k","id":"fnd_1","title":"T","cwe":["CWE-1"]}`,
			&store.FindingUpdatedPayload{Key: "k", Finding: store.Finding{ID: "fnd_1", Title: "T", CWE: []string{"CWE-1"}}}},
	} {
		got, err := store.Event{Kind: c.kind, Payload: []byte(c.payload)}.DecodePayload()
		if err != nil {
			t.Fatalf("%s %s: %v", c.kind, c.payload, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: decoded %#v, want %#v", c.kind, c.payload, got, c.want)
		}
	}
	if _, err := (store.Event{Kind: store.EventScanFailed, Payload: []byte(`[1]`)}).DecodePayload(); err == nil {
		t.Fatal("a payload that is not an object does not decode")
	}
}

func TestStatusSets(t *testing.T) {
	for _, s := range store.ScanStatuses {
		if !s.Valid() {
			t.Errorf("%s is valid", s)
		}
		// Every status is either active or terminal, never both.
		if s.Active() == s.Terminal() {
			t.Errorf("%s: active %v, terminal %v", s, s.Active(), s.Terminal())
		}
		if s.Held() && !s.Active() {
			t.Errorf("%s is held but not active", s)
		}
	}
	if store.ScanStatus("paused").Valid() || store.ScanStatus("").Valid() {
		t.Fatal("unknown statuses are not valid")
	}
	if len(store.ActiveScanStatuses)+len(store.TerminalScanStatuses) != len(store.ScanStatuses) {
		t.Fatal("active and terminal statuses partition all statuses")
	}
}
