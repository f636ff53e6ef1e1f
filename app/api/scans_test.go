package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/app/server/servertest"
)

// TestScanAndFindingRoutes drives a whole scan through the production router:
// queue, run with the real secrets engine, poll and stream events, triage,
// export, download artifacts; plus scoping and bad input.
func TestScanAndFindingRoutes(t *testing.T) {
	ctx := context.Background()
	h := servertest.New(t, map[string]string{"VEGA_SCAN_ENGINES": "secrets"})
	env := &scantest.Env{Store: h.Env.Store, Blobs: h.Env.Blobs, Dir: t.TempDir()}
	u := env.User(t)
	other := env.User(t)
	key, _ := h.App.Auth.CreateAPIKey(ctx, u.ID, "k", nil)
	otherKey, _ := h.App.Auth.CreateAPIKey(ctx, other.ID, "k", nil)
	secret := "AKIA" + "QZ7XK2LMN4PB6RTW" // random-looking, not a documentation example
	repo, _ := env.Repo(t, u.ID, map[string]string{"deploy/prod.env": "AWS_ACCESS_KEY_ID=" + secret + "\n", "main.go": "package main\n"})
	stack := h.App.Scans // the dispatcher is not started: the test runs the scan

	do := func(method, url, bearer, body string, hdr ...string) *http.Response {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, url, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return h.Open(req)
	}
	call := func(method, url, bearer, body string, want int) map[string]any {
		t.Helper()
		resp := do(method, url, bearer, body)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, b)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	errCode := func(m map[string]any) string { return m["error"].(map[string]any)["code"].(string) }

	// Queue: no body is fine; bad engines and other users are refused.
	created := call("POST", "/v1/repositories/"+repo.ID+"/scans", key.Secret, "", 202)
	scanID := created["id"].(string)
	if created["status"] != "queued" {
		t.Fatalf("created %v", created)
	}
	if m := call("POST", "/v1/repositories/"+repo.ID+"/scans", key.Secret, `{"engines":["nope"]}`, 400); errCode(m) != "validation_failed" {
		t.Fatalf("bad engine: %v", m)
	}
	if m := call("POST", "/v1/repositories/"+repo.ID+"/scans", otherKey.Secret, "", 404); errCode(m) != "not_found" {
		t.Fatalf("other user: %v", m)
	}
	call("GET", "/v1/scans/"+scanID, otherKey.Secret, "", 404)
	call("GET", "/v1/scans/"+scanID+"/events/stream", otherKey.Secret, "", 404)

	// The stream opened before the scan runs receives everything live.
	streamed := make(chan string, 1)
	go func() {
		resp := do("GET", "/v1/scans/"+scanID+"/events/stream?access_token="+key.Secret, "", "")
		defer resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Accel-Buffering") != "no" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			streamed <- "bad headers: " + fmt.Sprint(resp.Header)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		streamed <- string(b)
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := stack.Scans.Claim(ctx, "wrk_test"); err != nil {
		t.Fatal(err)
	}
	if err := stack.Runner.Run(ctx, scanID); err != nil {
		t.Fatal(err)
	}
	var body string
	select {
	case body = <-streamed:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end after the terminal event")
	}
	sse := parseSSE(t, body)
	if len(sse) < 3 || sse[0].event != "scan_started" || sse[len(sse)-1].event != "scan_completed" {
		t.Fatalf("stream: %+v", sse)
	}
	for i, e := range sse {
		if e.id != fmt.Sprint(i+1) {
			t.Fatalf("stream ids must be the seqs in order: %+v", sse)
		}
	}
	if strings.Contains(body, secret) {
		t.Fatal("the stream leaks the raw secret")
	}
	// Resume from Last-Event-ID: only the later events, no duplicates.
	resp := do("GET", "/v1/scans/"+scanID+"/events/stream", key.Secret, "", "Last-Event-ID", "2")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resumed := parseSSE(t, string(b))
	if len(resumed) != len(sse)-2 || resumed[0].id != "3" {
		t.Fatalf("resume: %+v", resumed)
	}
	if m := call("GET", "/v1/scans/"+scanID+"/events/stream?last_event_id=-1", key.Secret, "", 400); errCode(m) != "validation_failed" {
		t.Fatal("a negative last_event_id is refused")
	}

	// Polling.
	page := call("GET", "/v1/scans/"+scanID+"/events?after_seq=1&limit=2", key.Secret, "", 200)
	items := page["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["seq"] != float64(2) || page["next_cursor"] != "3" {
		t.Fatalf("poll: %v", page)
	}

	scan := call("GET", "/v1/scans/"+scanID, key.Secret, "", 200)
	if scan["status"] != "completed" || len(scan["downloads"].([]any)) < 4 {
		t.Fatalf("scan: %v", scan)
	}
	resp = do("GET", "/v1/scans/"+scanID+"/artifacts/report.sarif", key.Secret, "")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/sarif+json" || !strings.Contains(string(b), `"2.1.0"`) {
		t.Fatalf("artifact: %d %s", resp.StatusCode, resp.Header)
	}
	call("GET", "/v1/scans/"+scanID+"/artifacts/..%2f..%2fvega.db", key.Secret, "", 404)
	call("GET", "/v1/scans/"+scanID+"/artifacts/report.sarif", otherKey.Secret, "", 404)
	if m := call("POST", "/v1/scans/"+scanID+"/cancel", key.Secret, "", 409); errCode(m) != "conflict" {
		t.Fatal("cancelling a finished scan is a conflict")
	}

	// Findings: list, filter, triage, bulk, history, export.
	list := call("GET", "/v1/repositories/"+repo.ID+"/findings?severity=critical,high,medium,low,info&status=open", key.Secret, "", 200)
	fs := list["items"].([]any)
	if len(fs) != 1 {
		t.Fatalf("findings: %v", list)
	}
	fid := fs[0].(map[string]any)["id"].(string)
	if list["total"] != float64(1) || fs[0].(map[string]any)["rule_id"] != "aws-access-token" {
		t.Fatalf("total and rule_id: %v", list)
	}
	call("GET", "/v1/repositories/"+repo.ID+"/findings?severity=urgent", key.Secret, "", 400)
	call("GET", "/v1/projects/"+repo.ProjectID+"/findings", key.Secret, "", 200)
	call("GET", "/v1/scans/"+scanID+"/findings", key.Secret, "", 200)
	call("GET", "/v1/findings/"+fid, otherKey.Secret, "", 404)
	call("PATCH", "/v1/findings/"+fid, key.Secret, `{"status":"dismissed"}`, 400)
	f := call("PATCH", "/v1/findings/"+fid, key.Secret, `{"status":"dismissed","dismissed_reason":"used_in_tests","note":"fixture"}`, 200)
	if f["status"] != "dismissed" || f["triage_note"] != "fixture" {
		t.Fatalf("triage: %v", f)
	}
	bulk := call("POST", "/v1/findings/bulk-triage", key.Secret, `{"ids":["`+fid+`","fnd_nope"],"status":"confirmed"}`, 200)
	if bulk["changed"] != float64(1) || len(bulk["not_found"].([]any)) != 1 {
		t.Fatalf("bulk: %v", bulk)
	}
	hist := call("GET", "/v1/findings/"+fid+"/history", key.Secret, "", 200)
	if len(hist["items"].([]any)) != 3 {
		t.Fatalf("history: %v", hist)
	}
	for format, ct := range map[string]string{"sarif": "application/sarif+json", "csv": "text/csv", "json": "application/json"} {
		for _, url := range []string{"/v1/repositories/" + repo.ID + "/findings/export?format=" + format, "/v1/scans/" + scanID + "/findings/export?format=" + format} {
			resp := do("GET", url, key.Secret, "")
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			cd := resp.Header.Get("Content-Disposition")
			if want := time.Now().UTC().Format("2006-01-02"); !strings.Contains(cd, want) || !strings.HasSuffix(cd, "-findings."+format+`"`) ||
				!strings.HasPrefix(cd, `attachment; filename="`+repo.Name+"-"+want) || strings.Contains(cd, repo.ID) {
				t.Fatalf("export %s: Content-Disposition %q lacks the repository name and date", url, cd)
			}
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || !strings.Contains(string(b), "deploy/prod.env") || strings.Contains(string(b), secret) {
				t.Fatalf("export %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	}
	call("GET", "/v1/repositories/"+repo.ID+"/findings/export?format=pdf", key.Secret, "", 400)

	// Retry, list, cancel of a queued scan.
	retried := call("POST", "/v1/scans/"+scanID+"/retry", key.Secret, "", 202)
	rl := call("GET", "/v1/repositories/"+repo.ID+"/scans?status=queued", key.Secret, "", 200)
	if len(rl["items"].([]any)) != 1 {
		t.Fatalf("queued list: %v", rl)
	}
	call("GET", "/v1/projects/"+repo.ProjectID+"/scans", key.Secret, "", 200)
	cancelled := call("POST", "/v1/scans/"+retried["id"].(string)+"/cancel", key.Secret, "", 200)
	if cancelled["status"] != "cancelled" {
		t.Fatalf("cancel: %v", cancelled)
	}
}

type sseEvent struct{ id, event, data string }

func parseSSE(t *testing.T, body string) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
			if !json.Valid([]byte(cur.data)) {
				t.Fatalf("data is not JSON: %s", cur.data)
			}
		}
	}
	return out
}
