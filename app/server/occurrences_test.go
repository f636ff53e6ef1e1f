package server

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFindingOccurrencesMaskRevealAndMarks drives the finding page's API
// through the production router with a real secrets scan: a key copied into
// 13 places is one finding whose occurrences come a page at a time with the
// code around them and the key masked; Reveal shows it and is logged first;
// the file browser's marks list the key's span in a file that is not the
// finding's primary path.
func TestFindingOccurrencesMaskRevealAndMarks(t *testing.T) {
	h, tok := scanHarness(t)
	const key = "AKIAQYLPMN5HHHFPZAM2" // gitleaks' aws-access-token; looks random
	files := map[string]string{"README.md": "nothing here\n"}
	for i := 0; i < 12; i++ {
		files[fmt.Sprintf("cfg/f%02d.py", i)] = fmt.Sprintf("import os\n\nAWS_ACCESS_KEY_ID = \"%s\"  # copy %d\nREGION = 'eu'\n", key, i)
	}
	files["cfg/twice.py"] = "A = 1\nKEYS = ['" + key + "', 'ignored']\n"
	repoID := h.repository(tok, files)
	h.scan(tok, repoID, map[string]any{"engines": []string{"secrets"}})

	list := h.do("GET", "/v1/repositories/"+repoID+"/findings?rule=aws-access-token", tok, nil).JSON(t)
	items := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("want one finding for the copied key, got %d", len(items))
	}
	id := items[0].(map[string]any)["id"].(string)

	// Occurrences: pages of code, the key masked everywhere.
	r := h.do("GET", "/v1/findings/"+id+"/occurrences?limit=5&context=1", tok, nil)
	if r.Status != 200 {
		t.Fatalf("occurrences: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), key) || strings.Contains(string(r.Body), key[4:]) {
		t.Fatalf("occurrences answer the raw key: %s", r.Body)
	}
	page := r.JSON(t)
	if page["total"] != float64(13) || page["offset"] != float64(0) || page["limit"] != float64(5) || page["snapshot_id"] == "" {
		t.Errorf("page: total %v offset %v limit %v snapshot %v", page["total"], page["offset"], page["limit"], page["snapshot_id"])
	}
	occ := page["items"].([]any)
	if len(occ) != 5 {
		t.Fatalf("want 5 occurrences, got %d", len(occ))
	}
	first := occ[0].(map[string]any)
	lines := first["lines"].([]any)
	if first["file_path"] != "cfg/f00.py" || first["from_line"] != float64(2) || len(lines) != 3 || first["masked"] != true || first["secret"] != true {
		t.Fatalf("first occurrence: %v", first)
	}
	if want := `AWS_ACCESS_KEY_ID = "AKIA…[20 chars]"  # copy 0`; lines[1] != want {
		t.Errorf("masked line %q, want %q", lines[1], want)
	}
	spans := first["spans"].([]any)
	if len(spans) != 1 {
		t.Fatalf("spans: %v", spans)
	}
	sp := spans[0].(map[string]any)
	if sp["start_line"] != float64(3) || sp["start_column"] != float64(22) || sp["end_column"] != float64(22+utf8.RuneCountInString("AKIA…[20 chars]")-1) {
		t.Errorf("mask span %v", sp)
	}
	if first["start_column"] != float64(22) || first["end_column"] != float64(41) {
		t.Errorf("location span %v-%v, want 22-41", first["start_column"], first["end_column"])
	}
	last := h.do("GET", "/v1/findings/"+id+"/occurrences?offset=10&limit=5", tok, nil).JSON(t)["items"].([]any)
	if len(last) != 3 || last[2].(map[string]any)["file_path"] != "cfg/twice.py" || last[2].(map[string]any)["index"] != float64(12) {
		t.Errorf("last page: %v", last)
	}
	for q, field := range map[string]string{"limit=51": "limit", "offset=-1": "offset", "context=x": "context", "context=21": "context"} {
		r := h.do("GET", "/v1/findings/"+id+"/occurrences?"+q, tok, nil)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"`+field+`"`) {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}

	// Reveal shows the key and is in the history.
	before := len(h.do("GET", "/v1/findings/"+id+"/history", tok, nil).JSON(t)["items"].([]any))
	r = h.do("POST", "/v1/findings/"+id+"/reveal", tok, map[string]any{"offset": 0, "limit": 2, "context": 0})
	if r.Status != 200 {
		t.Fatalf("reveal: %d %s", r.Status, r.Body)
	}
	rev := r.JSON(t)["items"].([]any)
	rl := rev[0].(map[string]any)
	if len(rev) != 2 || rl["masked"] != false || !strings.Contains(rl["lines"].([]any)[0].(string), key) {
		t.Fatalf("revealed: %v", rev)
	}
	hist := h.do("GET", "/v1/findings/"+id+"/history", tok, nil).JSON(t)["items"].([]any)
	if len(hist) != before+1 {
		t.Fatalf("history %d entries after reveal, want %d", len(hist), before+1)
	}
	entry := hist[len(hist)-1].(map[string]any)
	if entry["reason"] != "secret_revealed" || entry["from_status"] != entry["to_status"] || entry["actor"] == "system" || entry["actor"] == "" {
		t.Errorf("reveal entry: %v", entry)
	}
	if r := h.do("POST", "/v1/findings/"+id+"/reveal", tok, map[string]any{"limit": 500}); r.Status != 400 {
		t.Errorf("reveal with limit 500: %d", r.Status)
	}
	if n := len(h.do("GET", "/v1/findings/"+id+"/history", tok, nil).JSON(t)["items"].([]any)); n != before+1 {
		t.Errorf("a refused reveal was logged: %d entries", n)
	}

	// File marks: the copy in cfg/twice.py is marked with its span.
	r = h.do("GET", "/v1/repositories/"+repoID+"/findings/in-file?path=cfg/twice.py", tok, nil)
	if r.Status != 200 {
		t.Fatalf("in-file: %d %s", r.Status, r.Body)
	}
	marks := r.JSON(t)
	mi := marks["items"].([]any)
	if len(mi) != 1 || marks["complete"] != true {
		t.Fatalf("marks: %v", marks)
	}
	m := mi[0].(map[string]any)
	if m["finding_id"] != id || m["start_line"] != float64(2) || m["start_column"] != float64(10) || m["end_column"] != float64(29) || m["secret"] != true || m["severity"] != "critical" {
		t.Errorf("mark: %v", m)
	}
	if n := len(h.do("GET", "/v1/repositories/"+repoID+"/findings/in-file?path=README.md", tok, nil).JSON(t)["items"].([]any)); n != 0 {
		t.Errorf("README has %d marks", n)
	}
	for _, p := range []string{"", "../etc/passwd", "/"} {
		if r := h.do("GET", "/v1/repositories/"+repoID+"/findings/in-file?path="+p, tok, nil); r.Status != 400 {
			t.Errorf("in-file path %q: %d %s", p, r.Status, r.Body)
		}
	}

	// Another user sees none of it.
	other := h.newUser(tok, "occurrences-other@example.com")
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/findings/" + id + "/occurrences"},
		{"POST", "/v1/findings/" + id + "/reveal"},
		{"GET", "/v1/repositories/" + repoID + "/findings/in-file?path=cfg/twice.py"},
	} {
		if r := h.do(c.method, c.path, other, nil); r.Status != 404 {
			t.Errorf("%s %s as another user: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
}

// TestOccurrencesMaskOtherFindingsSecrets: two different keys on adjacent
// lines of one file are two findings; each finding's excerpt shows the other
// key in its context lines, masked — also when the finding's own key is
// revealed (a reveal is logged per finding and covers only its own secret).
func TestOccurrencesMaskOtherFindingsSecrets(t *testing.T) {
	h, tok := scanHarness(t)
	keys := []string{"AKIAQYLPMN5HHHFPZAM2", "AKIAZ7VRSQ5TJN2UXKLW"}
	repoID := h.repository(tok, map[string]string{"cfg/pair.py": "A = \"" + keys[0] + "\"\nB = \"" + keys[1] + "\"\n"})
	h.scan(tok, repoID, map[string]any{"engines": []string{"secrets"}})
	items := h.do("GET", "/v1/repositories/"+repoID+"/findings?rule=aws-access-token", tok, nil).JSON(t)["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("want a finding per key, got %d", len(items))
	}
	for _, it := range items {
		id := it.(map[string]any)["id"].(string)
		own := strings.Contains(fmt.Sprint(it.(map[string]any)["locations"]), "start_line:2")
		mine, other := keys[0], keys[1]
		if own {
			mine, other = keys[1], keys[0]
		}
		masked := h.do("GET", "/v1/findings/"+id+"/occurrences?context=3", tok, nil)
		if masked.Status != 200 || strings.Contains(string(masked.Body), keys[0]) || strings.Contains(string(masked.Body), keys[1]) {
			t.Fatalf("masked occurrences of %s: %d %s", id, masked.Status, masked.Body)
		}
		if lines := masked.JSON(t)["items"].([]any)[0].(map[string]any)["lines"].([]any); len(lines) != 2 {
			t.Fatalf("the excerpt should hold both lines: %v", lines)
		}
		revealed := h.do("POST", "/v1/findings/"+id+"/reveal", tok, map[string]any{"context": 3})
		if revealed.Status != 200 || !strings.Contains(string(revealed.Body), mine) || strings.Contains(string(revealed.Body), other) {
			t.Fatalf("reveal of %s must show %s and not %s: %d %s", id, mine, other, revealed.Status, revealed.Body)
		}
	}
}
