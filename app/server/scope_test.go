package server

import (
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/srctree"
)

// scanHarness is the api role with its scan pool running, and a root
// access token.
func scanHarness(t *testing.T) (*harness, string) {
	t.Helper()
	h, tok := rootHarness(t)
	h.runBackground()
	return h, tok
}

// repository uploads files as a new repository, waits for its ingest and
// returns the repository ID.
func (h *harness) repository(tok string, files map[string]string) string {
	h.t.Helper()
	return h.ingestedRepo(tok, "p"+time.Now().Format("150405.000000"), "r", files)
}

// startScan starts a scan of the repository with body and returns its ID.
func (h *harness) startScan(tok, repoID string, body map[string]any) string {
	h.t.Helper()
	r := h.do("POST", "/v1/repositories/"+repoID+"/scans", tok, body)
	if r.Status != 202 {
		h.t.Fatalf("start scan: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)["id"].(string)
}

// completedScan starts a scan and waits for it to complete; it fails the
// test when the scan ends otherwise. It returns the scan's ID.
func (h *harness) completedScan(tok, repoID string, body map[string]any) string {
	h.t.Helper()
	id := h.startScan(tok, repoID, body)
	if done := h.waitScan(tok, id, time.Minute); done["status"] != "completed" {
		h.t.Fatalf("scan: %v", done)
	}
	return id
}

// scan runs a scan with body to completion and returns it once its
// artifacts are stored (they are uploaded after the terminal status; the
// runner's "artifacts" stage is recorded last).
func (h *harness) scan(tok, repoID string, body map[string]any) map[string]any {
	h.t.Helper()
	id := h.completedScan(tok, repoID, body)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s := h.do("GET", "/v1/scans/"+id, tok, nil).JSON(h.t)
		for _, st := range s["stages"].([]any) {
			if st := st.(map[string]any); st["engine"] == "runner" && st["stage"] == "artifacts" {
				return s
			}
		}
	}
	h.t.Fatalf("the artifacts of scan %s were not stored", id)
	return nil
}

// TestScopedScanKeepsTheDismissal: a secret that sits in two files is one
// finding whose primary location is the first file in path order; a scan
// scoped to the other file's directory must link to the same finding, so a
// dismissal made after a full scan holds and no second finding opens.
func TestScopedScanKeepsTheDismissal(t *testing.T) {
	h, tok := scanHarness(t)
	line := srctree.AWSKeyLine(11)
	repoID := h.repository(tok, map[string]string{"app.env": line, "config/app.env": line, "config/other.env": srctree.AWSKeyLine(12)})

	h.scan(tok, repoID, map[string]any{})
	list := h.do("GET", "/v1/repositories/"+repoID+"/findings", tok, nil).JSON(t)["items"].([]any)
	if len(list) != 2 {
		t.Fatalf("full scan: %d findings, want 2", len(list))
	}
	ids := map[string]string{} // file_path of the full scan → id
	for _, f := range list {
		f := f.(map[string]any)
		ids[f["file_path"].(string)] = f["id"].(string)
	}
	shared := ids["app.env"]
	if shared == "" || ids["config/other.env"] == "" {
		t.Fatalf("full scan findings: %v", ids)
	}
	if r := h.do("PATCH", "/v1/findings/"+shared, tok, map[string]any{"status": "dismissed", "dismissed_reason": "used_in_tests"}); r.Status != 200 {
		t.Fatalf("dismiss: %d %s", r.Status, r.Body)
	}

	scoped := h.scan(tok, repoID, map[string]any{"paths": []string{"config"}})
	inScan := h.do("GET", "/v1/scans/"+scoped["id"].(string)+"/findings", tok, nil).JSON(t)["items"].([]any)
	all := h.do("GET", "/v1/repositories/"+repoID+"/findings", tok, nil).JSON(t)["items"].([]any)
	if len(inScan) != 2 || len(all) != 2 {
		t.Fatalf("scoped scan: %d findings in the scan, %d in the repository; want 2 and 2 (no new finding)", len(inScan), len(all))
	}
	for _, f := range all {
		f := f.(map[string]any)
		switch f["id"] {
		case shared:
			if f["status"] != "dismissed" || f["file_path"] != "config/app.env" {
				t.Errorf("shared secret after the scoped scan: status %v at %v, want dismissed at config/app.env", f["status"], f["file_path"])
			}
		case ids["config/other.env"]:
			if f["status"] != "open" {
				t.Errorf("other secret: %v", f["status"])
			}
		default:
			t.Errorf("a new finding appeared: %v", f)
		}
	}
	// And back: a full scan still links to the same, dismissed finding.
	h.scan(tok, repoID, map[string]any{})
	if f := h.do("GET", "/v1/findings/"+shared, tok, nil).JSON(t); f["status"] != "dismissed" || f["file_path"] != "app.env" {
		t.Errorf("after a full scan again: %v at %v", f["status"], f["file_path"])
	}
	if all := h.do("GET", "/v1/repositories/"+repoID+"/findings", tok, nil).JSON(t)["items"].([]any); len(all) != 2 {
		t.Errorf("%d findings after scanning in full again, want 2", len(all))
	}
}
