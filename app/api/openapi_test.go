package api

import (
	"reflect"
	"testing"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/store"
)

// TestOpenAPIDocumentsBulkTriagePrevious: the bulk triage answer documents
// previous, the groups Undo sends back (docs/findings.md).
func TestOpenAPIDocumentsBulkTriagePrevious(t *testing.T) {
	defs := map[string]any{}
	g := &schemaGen{defs: defs}
	if ref := g.schema(reflect.TypeOf(findings.BulkResult{})); ref["$ref"] != "#/components/schemas/FindingsBulkResult" {
		t.Fatalf("bulk result schema %v", ref)
	}
	props := defs["FindingsBulkResult"].(map[string]any)["properties"].(map[string]any)
	prev, _ := props["previous"].(map[string]any)
	if prev["type"] != "array" || prev["items"].(map[string]any)["$ref"] != "#/components/schemas/FindingsBulkPrevious" {
		t.Fatalf("previous: %v", props)
	}
	group := defs["FindingsBulkPrevious"].(map[string]any)["properties"].(map[string]any)
	for f, typ := range map[string]string{"ids": "array", "status": "string", "dismissed_reason": "string", "note": "string", "restorable": "boolean"} {
		if p, _ := group[f].(map[string]any); p["type"] != typ {
			t.Errorf("previous group's %s: %v, want %s", f, p, typ)
		}
	}
}

// TestOpenAPIDocumentsEventPayloads: an event in the OpenAPI document is one
// variant per kind, keyed by kind, and each variant's payload lists the
// fields of that kind's payload type (docs/scan-lifecycle.md).
func TestOpenAPIDocumentsEventPayloads(t *testing.T) {
	defs := map[string]any{}
	g := &schemaGen{defs: defs}
	if ref := g.schema(reflect.TypeOf(List[store.Event]{})); ref["$ref"] != "#/components/schemas/ListEvent" {
		t.Fatalf("list schema %v", ref)
	}
	ev := defs["Event"].(map[string]any)
	variants := ev["oneOf"].([]any)
	mapping := ev["discriminator"].(map[string]any)["mapping"].(map[string]any)
	if len(variants) != len(store.EventKinds) || len(mapping) != len(store.EventKinds) ||
		ev["discriminator"].(map[string]any)["propertyName"] != "kind" {
		t.Fatalf("Event: %v", ev)
	}
	want := map[store.EventKind][]string{
		store.EventScanStarted:    {"engines", "snapshot_id", "file_count", "attempt"},
		store.EventScanProgress:   {"percent", "message", "component", "components_done", "components_total"},
		store.EventScanLog:        {"level", "message", "engine"},
		store.EventFindingUpdated: {"key", "id", "title", "severity", "file_path", "start_line", "locations"},
		store.EventUsage:          {"model", "requests", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd"},
		store.EventScanCompleted:  {"finding_counts", "duration_ms", "stop_reason"},
		store.EventScanFailed:     {"code", "message"},
		store.EventScanCancelled:  {"by", "user_id", "reason"},
	}
	for kind, fields := range want {
		ref, ok := mapping[string(kind)].(string)
		if !ok {
			t.Fatalf("%s is not in the discriminator mapping", kind)
		}
		variant := defs[ref[len("#/components/schemas/"):]].(map[string]any)
		props := variant["properties"].(map[string]any)
		if k := props["kind"].(map[string]any); k["const"] != string(kind) {
			t.Errorf("%s variant has kind %v", kind, k)
		}
		for _, f := range []string{"scan_id", "seq", "created_at"} {
			if props[f] == nil {
				t.Errorf("%s variant lacks %s", kind, f)
			}
		}
		pref := props["payload"].(map[string]any)["$ref"].(string)
		payload := defs[pref[len("#/components/schemas/"):]].(map[string]any)
		pprops, _ := payload["properties"].(map[string]any)
		for _, f := range fields {
			if pprops[f] == nil {
				t.Errorf("%s payload (%s) does not document %q: %v", kind, pref, f, pprops)
			}
		}
	}
}
