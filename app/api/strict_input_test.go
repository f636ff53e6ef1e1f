package api_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/engine/codex"
	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/store"
)

// enumQuery are the query parameters that take a fixed set of values: a
// value outside it is a 400 naming the parameter, never "no filter".
var enumQuery = []string{"sort", "status", "severity", "change", "engine", "group_by", "format"}

// freeQuery are the query parameters that take free text, an ID or a number
// (each checked by its own rule). A parameter in neither list fails
// TestEnumQueryParametersRefuseUnknownValues: classify it there.
var freeQuery = []string{"path", "snapshot_id", "scan_id", "rule", "path_prefix", "cwe", "q", "from", "to",
	"after_seq", "limit", "last_event_id", "offset", "context"}

// bearerFor is who may call an operation at all: root routes need root, the
// rest are called as the owner of the objects.
func (w *world) bearerFor(op api.Op) string {
	if len(op.Groups) > 0 {
		return w.root
	}
	return w.ownerKey
}

// TestEveryBodyRefusesUnknownFields sends every documented JSON body (the
// route table's request type, all fields present) with one field more, to
// the owner's real objects. Every one is a 400 validation_failed whose
// details name the field: a misspelt or misplaced field is never dropped.
func TestEveryBodyRefusesUnknownFields(t *testing.T) {
	w := newWorld(t)
	const extra = "vega_not_a_field"
	n := 0
	for _, op := range w.h.App.Router.Ops() {
		if op.Request == nil {
			continue
		}
		path, ok := w.path(op.Path)
		if !ok {
			t.Fatalf("%s %s: world_test.go makes no object for its path parameters; add one to newWorld", op.Method, op.Path)
		}
		t.Run(op.Method+" "+op.Path, func(t *testing.T) {
			var fields map[string]any
			raw, _ := json.Marshal(op.Request)
			if err := json.Unmarshal(raw, &fields); err != nil {
				t.Fatalf("request type %T is not a JSON object: %v", op.Request, err)
			}
			fields[extra] = "x"
			r := w.h.Do(op.Method, path, w.bearerFor(op), fields)
			if r.Status != 400 || r.ErrCode(t) != "validation_failed" {
				t.Fatalf("a body with an unknown field: %d %s, want 400 validation_failed", r.Status, r.Body)
			}
			details, _ := r.JSON(t)["error"].(map[string]any)["details"].(map[string]any)
			if _, named := details[extra]; !named {
				t.Fatalf("details do not name the unknown field: %s", r.Body)
			}
		})
		n++
	}
	if n < 10 {
		t.Fatalf("only %d documented bodies", n)
	}
	// A nested object is as strict as the top level.
	r := w.h.Do("POST", "/v1/findings/bulk-triage", w.ownerKey, map[string]any{"status": "confirmed",
		"filter": map[string]any{"repository_id": w.ids["repositories"], "severty": "high"}})
	if r.Status != 400 || r.ErrCode(t) != "validation_failed" || !strings.Contains(string(r.Body), "severty") {
		t.Fatalf("a misspelt filter field: %d %s", r.Status, r.Body)
	}
	if f := w.must(t, "GET", "/v1/findings/"+w.ids["findings"], w.ownerKey, nil, 200); f["status"] != "open" {
		t.Fatalf("a refused bulk triage changed a finding: %v", f)
	}
}

// TestThreatProfileRoundTripsItsOwnShape is the data-loss bug of issue 13:
// PUT with the shape GET returns ({"content": {...}}) answered 200 and saved
// an empty profile. Now that shape saves its content, and a body that is
// neither shape is refused without touching the saved profile.
func TestThreatProfileRoundTripsItsOwnShape(t *testing.T) {
	w := newWorld(t)
	url := "/v1/repositories/" + w.ids["repositories"] + "/threat-profile"
	got := w.must(t, "GET", url, w.ownerKey, nil, 200)
	content := got["content"].(map[string]any)
	content["summary"] = "edited through the GET shape"
	saved := w.must(t, "PUT", url, w.ownerKey, got, 200)["content"].(map[string]any)
	if saved["summary"] != "edited through the GET shape" || !reflect.DeepEqual(saved["assets"], []any{"customer data"}) {
		t.Fatalf("the GET shape did not save its content: %v", saved)
	}

	for name, body := range map[string]any{
		"GET shape with an unknown field":      map[string]any{"content": content, "owner": "x"},
		"unknown field inside content":         map[string]any{"content": map[string]any{"summary": "x", "asets": []string{"typo"}}},
		"flat content with an unknown field":   map[string]any{"summary": "x", "entrypoints": []string{"typo"}},
		"content is not an object":             map[string]any{"content": "wiped"},
		"content is null":                      map[string]any{"content": nil},
		"flat fields beside the wrapped shape": map[string]any{"content": content, "summary": "which one?"},
	} {
		r := w.h.Do("PUT", url, w.ownerKey, body)
		if r.Status != 400 || r.ErrCode(t) != "validation_failed" {
			t.Fatalf("%s: %d %s, want 400 validation_failed", name, r.Status, r.Body)
		}
	}
	after := w.must(t, "GET", url, w.ownerKey, nil, 200)["content"].(map[string]any)
	if after["summary"] != "edited through the GET shape" || !reflect.DeepEqual(after["assets"], []any{"customer data"}) {
		t.Fatalf("a refused PUT changed the profile: %v", after)
	}
}

// TestEnumQueryParametersRefuseUnknownValues sends every documented query
// parameter that takes a fixed set of values with a value outside it, on the
// owner's real objects: a 400 validation_failed naming the parameter.
func TestEnumQueryParametersRefuseUnknownValues(t *testing.T) {
	w := newWorld(t)
	n := 0
	for _, op := range w.h.App.Router.Ops() {
		for _, q := range op.Query {
			if !slices.Contains(enumQuery, q) {
				if !slices.Contains(freeQuery, q) {
					t.Errorf("%s %s: query parameter %q is in neither enumQuery nor freeQuery (strict_input_test.go); "+
						"add it to enumQuery if it takes a fixed set of values (and refuse others with validation_failed), to freeQuery otherwise",
						op.Method, op.Path, q)
				}
				continue
			}
			path, ok := w.path(op.Path)
			if !ok {
				t.Fatalf("%s %s: world_test.go makes no object for its path parameters", op.Method, op.Path)
			}
			for _, bogus := range []string{"bogus", "high,bogus", "-"} {
				r := w.h.Do(op.Method, path+"?"+url.Values{q: {bogus}}.Encode(), w.bearerFor(op), nil)
				if r.Status != 400 || r.ErrCode(t) != "validation_failed" {
					t.Errorf("%s %s?%s=%q: %d %s, want 400 validation_failed", op.Method, op.Path, q, bogus, r.Status, truncate(r.Body))
					continue
				}
				details, _ := r.JSON(t)["error"].(map[string]any)["details"].(map[string]any)
				if _, named := details[q]; !named {
					t.Errorf("%s %s?%s=%q: details do not name %s: %s", op.Method, op.Path, q, bogus, q, r.Body)
				}
			}
			n++
		}
	}
	if n < 20 {
		t.Fatalf("only %d enum parameters checked", n)
	}
	// Every engine that reports findings is a valid filter value.
	for _, e := range store.FindingEngines {
		w.must(t, "GET", "/v1/repositories/"+w.ids["repositories"]+"/findings?engine="+e, w.ownerKey, nil, 200)
	}
}

// TestFindingEnginesAreTheEngines: the engine filter's fixed list is the
// engines this build has.
func TestFindingEnginesAreTheEngines(t *testing.T) {
	names := []string{secrets.Name, codex.Name}
	slices.Sort(names)
	have := slices.Sorted(slices.Values(store.FindingEngines))
	if !slices.Equal(names, have) {
		t.Fatalf("store.FindingEngines %v, the engines are %v", have, names)
	}
}

// TestUploadRefusesUnknownParts: an archive upload is as strict as a JSON
// body. A part other than name and archive (here a misspelt name, after the
// archive) is a 400 naming it, and no repository is made.
func TestUploadRefusesUnknownParts(t *testing.T) {
	w := newWorld(t)
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	f, _ := zw.Create("main.go")
	f.Write([]byte("package main\n"))
	zw.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("archive", "src.zip")
	fw.Write(zipped.Bytes())
	mw.WriteField("naem", "typo")
	mw.Close()
	list := "/v1/projects/" + w.ids["projects"] + "/repositories"
	before := len(w.must(t, "GET", list, w.ownerKey, nil, 200)["items"].([]any))
	r := w.h.Do("POST", list, w.ownerKey, body.Bytes(), "Content-Type", mw.FormDataContentType())
	if r.Status != 400 || r.ErrCode(t) != "validation_failed" || !strings.Contains(string(r.Body), `"naem"`) {
		t.Fatalf("an upload with an unknown part: %d %s", r.Status, r.Body)
	}
	if after := len(w.must(t, "GET", list, w.ownerKey, nil, 200)["items"].([]any)); after != before {
		t.Fatalf("a refused upload made a repository: %d → %d", before, after)
	}
}
