package server

import (
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// TestThreatProfileVersionsRestore: generation, edits and restores are each
// kept as a version; restoring brings back an earlier content and is itself
// a version; another user sees none of them.
func TestThreatProfileVersionsRestore(t *testing.T) {
	h, tok := rootHarness(t)
	id := h.repository(tok, map[string]string{"app/package.json": `{"dependencies": {"express": "^4.18.0"}}`, "app/index.js": "require('express')\n"})
	base := "/v1/repositories/" + id + "/threat-profile"
	var tp map[string]any
	for range 200 {
		if tp = h.do("GET", base, tok, nil).JSON(t); tp["status"] == "ready" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if tp["status"] != "ready" {
		t.Fatalf("generated profile: %v", tp)
	}
	generated := tp["content"].(map[string]any)["summary"]

	for _, summary := range []string{"First edit", "Second edit"} {
		edit := map[string]any{"summary": summary, "out_of_scope": []string{"vendor/"}}
		if r := h.do("PUT", base, tok, edit); r.Status != 200 {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
	}
	versions := func() []map[string]any {
		t.Helper()
		r := h.do("GET", base+"/versions", tok, nil)
		if r.Status != 200 {
			t.Fatalf("versions: %d %s", r.Status, r.Body)
		}
		var out []map[string]any
		for _, v := range r.JSON(t)["items"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out
	}
	summaryOf := func(v map[string]any) any { return v["content"].(map[string]any)["summary"] }
	vs := versions()
	if len(vs) != 3 || summaryOf(vs[0]) != "Second edit" || summaryOf(vs[1]) != "First edit" || summaryOf(vs[2]) != generated ||
		vs[0]["source"] != "edited" || vs[2]["source"] != "generated" || vs[0]["created_by"] == "" {
		t.Fatalf("versions after two edits: %v", vs)
	}
	if _, leaked := vs[0]["owner_user_id"]; leaked {
		t.Fatalf("a version shows its owner: %v", vs[0])
	}

	r := h.do("POST", base+"/versions/"+vs[1]["id"].(string)+"/restore", tok, nil)
	if r.Status != 200 {
		t.Fatalf("restore: %d %s", r.Status, r.Body)
	}
	if got := r.JSON(t); got["source"] != "restored" || got["content"].(map[string]any)["summary"] != "First edit" || got["status"] != "ready" {
		t.Fatalf("restored profile: %v", got)
	}
	if got := h.do("GET", base, tok, nil).JSON(t); got["content"].(map[string]any)["summary"] != "First edit" {
		t.Fatalf("profile after restore: %v", got)
	}
	if vs := versions(); len(vs) != 4 || vs[0]["source"] != "restored" || summaryOf(vs[0]) != "First edit" {
		t.Fatalf("versions after restore: %v", vs)
	}

	for path, want := range map[string]int{
		base + "/versions/tpv_01JZZZZZZZZZZZZZZZZZZZZZZZ/restore": 404,
		base + "/versions/not-an-id/restore":                      404,
	} {
		if r := h.do("POST", path, tok, nil); r.Status != want || r.ErrCode(t) != "not_found" {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
	}
	other := h.newUser(tok, "other@example.com")
	if r := h.do("GET", base+"/versions", other, nil); r.Status != 404 {
		t.Fatalf("versions as another user: %d %s", r.Status, r.Body)
	}
	if r := h.do("POST", base+"/versions/"+vs[2]["id"].(string)+"/restore", other, nil); r.Status != 404 {
		t.Fatalf("restore as another user: %d %s", r.Status, r.Body)
	}
	// While a generation runs, a restore is refused: the generation would
	// overwrite it a moment later.
	cur, err := h.env.Store.GetThreatProfile(t.Context(), store.System(), id)
	if err != nil {
		t.Fatal(err)
	}
	cur.Status = store.ProfileGenerating
	if err := h.env.Store.PutThreatProfile(t.Context(), cur); err != nil {
		t.Fatal(err)
	}
	if r := h.do("POST", base+"/versions/"+vs[2]["id"].(string)+"/restore", tok, nil); r.Status != 409 || r.ErrCode(t) != "conflict" {
		t.Fatalf("restore while generating: %d %s", r.Status, r.Body)
	}
	// A version of another repository cannot be restored here.
	id2 := h.repository(tok, map[string]string{"b/x.go": "package x\n"})
	if r := h.do("POST", "/v1/repositories/"+id2+"/threat-profile/versions/"+vs[2]["id"].(string)+"/restore", tok, nil); r.Status != 404 {
		t.Fatalf("restore a version of another repository: %d %s", r.Status, r.Body)
	}
}
