package server

import (
	"bufio"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vegasec/vega/testutil/srctree"
)

func TestRepositoryEventsAndTheStream(t *testing.T) {
	h, tok := scanHarness(t)
	repoID := h.ingestedRepo(tok, "events", "r", map[string]string{"app/.env": srctree.AWSKeyLine(5), "app/main.py": "print(1)\n"})

	if items := h.do("GET", "/v1/repositories/"+repoID+"/events", tok, nil).JSON(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("events before any scan: %v", items)
	}
	scanID := h.completedScan(tok, repoID, map[string]any{})
	items := h.do("GET", "/v1/repositories/"+repoID+"/events", tok, nil).JSON(t)["items"].([]any)
	if len(items) < 3 || items[0].(map[string]any)["scan_id"] != scanID || items[0].(map[string]any)["kind"] != "scan_started" {
		t.Fatalf("repository events: %v", items)
	}
	if r := h.do("GET", "/v1/repositories/"+repoID+"/events?scan_id=scan_01J0000000000000000000000X", tok, nil); r.Status != 404 {
		t.Fatalf("foreign scan id: %d", r.Status)
	}

	// The stream replays from Last-Event-ID; each data line is the whole event.
	req := httptest.NewRequest("GET", "/v1/scans/"+scanID+"/events/stream?access_token="+tok, nil)
	req.Header.Set("Last-Event-ID", "1")
	res, err := h.app.HTTP.Test(h.addressed(req), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" || res.Header.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("stream headers: %v", res.Header)
	}
	sc := bufio.NewScanner(res.Body)
	var ids, kinds []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			ids = append(ids, strings.TrimPrefix(line, "id: "))
		case strings.HasPrefix(line, "data: "):
			var ev struct {
				ScanID string          `json:"scan_id"`
				Seq    int64           `json:"seq"`
				Kind   string          `json:"kind"`
				Data   json.RawMessage `json:"payload"`
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil || ev.ScanID != scanID || ev.Data == nil {
				t.Fatalf("data line is not the event: %q", line)
			}
			kinds = append(kinds, ev.Kind)
		}
	}
	if len(ids) == 0 || ids[0] != "2" || kinds[len(kinds)-1] != "scan_completed" {
		t.Fatalf("stream after Last-Event-ID 1: ids %v kinds %v", ids, kinds)
	}
	if strings.Contains(strings.Join(kinds, ","), "scan_started") {
		t.Fatal("the stream replayed an event before Last-Event-ID")
	}
}
