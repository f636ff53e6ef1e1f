package api_test

import (
	"fmt"
	"testing"

	"github.com/vegasec/vega/app/server/servertest"
)

func TestProjectsCRUDAndScoping(t *testing.T) {
	h := servertest.New(t, nil)
	me := h.DebugToken()
	other := h.NewUser(me, "other@example.com")

	r := h.Do("POST", "/v1/projects", me, map[string]string{"name": "  Payments  ", "description": "card flows"})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	p := r.JSON(t)
	id := p["id"].(string)
	if p["name"] != "Payments" || p["repository_count"] != float64(0) || p["open_finding_counts"] == nil {
		t.Fatalf("unexpected project: %s", r.Body)
	}

	if r := h.Do("PUT", "/v1/projects/"+id, me, map[string]string{"name": "Billing"}); r.Status != 200 || r.JSON(t)["name"] != "Billing" || r.JSON(t)["description"] != "card flows" {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	// Another user's project does not exist for them, whatever they try.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/projects/" + id, nil},
		{"PUT", "/v1/projects/" + id, map[string]string{"name": "mine now"}},
		{"DELETE", "/v1/projects/" + id, nil},
	} {
		if r := h.Do(c.method, c.path, other, c.body); r.Status != 404 || r.ErrCode(t) != "not_found" {
			t.Fatalf("%s by another user: %d %s", c.method, r.Status, r.Body)
		}
	}
	if r := h.Do("GET", "/v1/projects", other, nil); len(r.JSON(t)["items"].([]any)) != 0 {
		t.Fatalf("another user sees my projects: %s", r.Body)
	}

	bad := []struct {
		name string
		body any
		code string
	}{
		{"empty name", map[string]string{"name": "   "}, "validation_failed"},
		{"missing name", map[string]string{"description": "x"}, "validation_failed"},
		{"name too long", map[string]string{"name": string(make([]byte, 201))}, "validation_failed"},
		{"wrong type", `{"name": ["a"]}`, "validation_failed"},
		{"malformed", `{"name":`, "bad_request"},
	}
	for _, c := range bad {
		if r := h.Do("POST", "/v1/projects", me, c.body); r.Status != 400 || r.ErrCode(t) != c.code {
			t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}

	if r := h.Do("DELETE", "/v1/projects/"+id, me, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/v1/projects/"+id, me, nil); r.Status != 404 {
		t.Fatalf("deleted project still there: %d", r.Status)
	}
}

func TestProjectsPagination(t *testing.T) {
	h := servertest.New(t, nil)
	me := h.DebugToken()
	for i := 0; i < 5; i++ {
		if r := h.Do("POST", "/v1/projects", me, map[string]string{"name": fmt.Sprintf("p%d", i)}); r.Status != 201 {
			t.Fatal(r.Status)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/v1/projects?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		m := h.Do("GET", path, me, nil).JSON(t)
		for _, it := range m["items"].([]any) {
			seen[it.(map[string]any)["name"].(string)] = true
		}
		pages++
		next, _ := m["next_cursor"].(string)
		if next == "" {
			if m["next_cursor"] != nil {
				t.Fatalf("next_cursor should be null at the end, got %v", m["next_cursor"])
			}
			break
		}
		cursor = next
	}
	if len(seen) != 5 || pages != 3 {
		t.Fatalf("saw %d projects in %d pages", len(seen), pages)
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=abc"} {
		if r := h.Do("GET", "/v1/projects?"+q, me, nil); r.Status != 400 || r.ErrCode(t) != "validation_failed" {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}
