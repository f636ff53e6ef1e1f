package server

import "testing"

// honor_suppressions is on for a new project, can be switched with PUT on
// its own, survives a rename, and a non-boolean is refused.
func TestProjectHonorSuppressionsSetting(t *testing.T) {
	h, me := rootHarness(t)
	r := h.do("POST", "/v1/projects", me, map[string]string{"name": "audit"})
	if r.Status != 201 || r.JSON(t)["honor_suppressions"] != true {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	if r := h.do("PUT", "/v1/projects/"+id, me, map[string]any{"honor_suppressions": false}); r.Status != 200 || r.JSON(t)["honor_suppressions"] != false || r.JSON(t)["name"] != "audit" {
		t.Fatalf("switch off: %d %s", r.Status, r.Body)
	}
	if r := h.do("PUT", "/v1/projects/"+id, me, map[string]any{"name": "audit 2"}); r.Status != 200 || r.JSON(t)["honor_suppressions"] != false {
		t.Fatalf("rename must keep the setting: %d %s", r.Status, r.Body)
	}
	if r := h.do("GET", "/v1/projects/"+id, me, nil); r.Status != 200 || r.JSON(t)["honor_suppressions"] != false {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	if r := h.do("PUT", "/v1/projects/"+id, me, map[string]any{"honor_suppressions": "no"}); r.Status != 400 {
		t.Fatalf("a string must be refused: %d %s", r.Status, r.Body)
	}
	if r := h.do("POST", "/v1/projects", me, map[string]any{"name": "untrusted", "honor_suppressions": false}); r.Status != 201 || r.JSON(t)["honor_suppressions"] != false {
		t.Fatalf("create with the setting off: %d %s", r.Status, r.Body)
	}
}
