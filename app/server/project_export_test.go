package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/srctree"
)

// TestProjectExport: a project's export holds the findings of all its
// repositories, each naming its repository (a CSV column, one SARIF run per
// repository, a JSON name map), under a file name of the project and the date.
func TestProjectExport(t *testing.T) {
	h, tok := scanHarness(t)
	pid := h.project(tok, "Payments platform")
	keys := map[string]string{"billing": srctree.AWSKeyID(31), "ledger": srctree.AWSKeyID(32)}
	repoIDs := map[string]string{}
	for name, key := range keys {
		r := h.upload(tok, "/v1/projects/"+pid+"/repositories", name, zipOf(t, map[string]string{name + "/deploy/.env": "AWS_ACCESS_KEY_ID=" + key + "\n"}))
		if r.Status != 201 {
			t.Fatalf("upload %s: %d %s", name, r.Status, r.Body)
		}
		repoIDs[name] = r.JSON(t)["id"].(string)
		h.waitIngest(tok, repoIDs[name])
		h.scan(tok, repoIDs[name], map[string]any{})
	}
	day := time.Now().UTC().Format("2006-01-02")
	for _, format := range []string{"sarif", "csv", "json"} {
		r := h.do("GET", "/v1/projects/"+pid+"/findings/export?format="+format, tok, nil)
		if r.Status != 200 {
			t.Fatalf("export %s: %d %s", format, r.Status, r.Body)
		}
		if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="Payments_platform-`+day+`-findings.`+format+`"` {
			t.Fatalf("export %s: Content-Disposition %q", format, cd)
		}
		for _, key := range keys {
			if bytes.Contains(r.Body, []byte(key)) {
				t.Fatalf("export %s holds a raw key", format)
			}
		}
		switch format {
		case "csv":
			rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
			if err != nil || len(rows) != 3 {
				t.Fatalf("csv: %v %v", rows, err)
			}
			col := -1
			for i, h := range rows[0] {
				if h == "repository" {
					col = i
				}
			}
			got := []string{rows[1][col], rows[2][col]}
			if col < 0 || !(strings.Join(got, ",") == "billing,ledger" || strings.Join(got, ",") == "ledger,billing") {
				t.Fatalf("csv repository column: %v", got)
			}
		case "sarif":
			var log struct {
				Runs []struct {
					AutomationDetails struct{ ID string } `json:"automationDetails"`
					Results           []any               `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(r.Body, &log); err != nil || len(log.Runs) != 2 {
				t.Fatalf("sarif: %d runs, %v", len(log.Runs), err)
			}
			for _, run := range log.Runs {
				if len(run.Results) != 1 || !strings.HasPrefix(run.AutomationDetails.ID, "vega/"+pid+"/repo_") {
					t.Fatalf("sarif run: %+v", run)
				}
			}
		case "json":
			var rep struct {
				Project      string            `json:"project"`
				Repositories map[string]string `json:"repositories"`
				Findings     []struct {
					RepositoryID string `json:"repository_id"`
				} `json:"findings"`
			}
			if err := json.Unmarshal(r.Body, &rep); err != nil || rep.Project != "Payments platform" || len(rep.Findings) != 2 ||
				rep.Repositories[repoIDs["billing"]] != "billing" || rep.Repositories[repoIDs["ledger"]] != "ledger" {
				t.Fatalf("json: %+v %v", rep, err)
			}
		}
	}
	// Filters apply as on the list; another user gets nothing.
	if r := h.do("GET", "/v1/projects/"+pid+"/findings/export?format=csv&severity=info", tok, nil); r.Status != 200 || bytes.Count(r.Body, []byte("\n")) != 1 {
		t.Fatalf("filtered export: %d %q", r.Status, r.Body)
	}
	other := h.newUser(tok, "other@example.com")
	if r := h.do("GET", "/v1/projects/"+pid+"/findings/export?format=csv", other, nil); r.Status != 404 || r.ErrCode(t) != "not_found" {
		t.Fatalf("export as another user: %d %s", r.Status, r.Body)
	}
}
