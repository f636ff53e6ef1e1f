package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/vegasec/vega/app/export/sariftest"
	"github.com/vegasec/vega/store"
)

func sampleFindings() []store.Finding {
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	return []store.Finding{
		{
			ID: "fnd_2", Engine: "codex", Title: "SQL injection in user search", Severity: "medium", Confidence: "medium",
			Category: "sql-injection", CWE: []string{"CWE-89"}, FilePath: "app/db/users.go", StartLine: 40, EndLine: 44,
			Description: "The query concatenates the name parameter.", Evidence: `db.Query("SELECT * FROM users WHERE name='" + name + "'")`,
			Recommendation: "Use a parameterised query.", Status: store.FindingOpen, Fingerprint: "fp-sqli",
			Locations: []store.Location{{FilePath: "app/db/users.go", StartLine: 40, EndLine: 44}, {FilePath: "app/http/search.go", StartLine: 12, EndLine: 12, Role: "source", Note: "name comes from the query string"}},
			CreatedAt: t0, UpdatedAt: t0,
		},
		{
			ID: "fnd_1", Engine: "secrets", Title: "AWS access key in config/app.env", Severity: "critical", Confidence: "high",
			Category: "aws-access-token", CWE: []string{"CWE-798"}, FilePath: "config/app.env", StartLine: 3, EndLine: 3,
			Evidence: "AWS_ACCESS_KEY_ID=AKIA…[20 chars]", Recommendation: "Rotate it.", Status: store.FindingDismissed,
			DismissedReason: store.DismissUsedInTests, TriageNote: "fixture key, revoked", Fingerprint: "fp-aws",
			CreatedAt: t0, UpdatedAt: t0,
		},
		{
			ID: "fnd_3", Engine: "codex", Title: "=HYPERLINK(\"http://evil\",\"click\")", Severity: "low", Confidence: "low",
			Category: "", FilePath: "web/my file#1.js", StartLine: 0, Status: store.FindingOpen,
			Evidence: "@SUM(1+1)", TriageNote: "-2+3", Recommendation: "+cmd|' /C calc'!A0",
		},
		{
			ID: "fnd_4", Engine: "codex", Title: "Info note", Severity: "info", Confidence: "low", Category: "hardening",
			FilePath: "c:odd/path.txt", StartLine: 7, EndLine: 5, Status: store.FindingFixed,
		},
	}
}

func validate(t *testing.T, sch *jsonschema.Schema, raw []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return sch.Validate(inst)
}

var fullMeta = Meta{
	ToolVersion: "1.2.3", InformationURI: "https://github.com/vegasec/vega", ScanID: "scan_1",
	RepositoryURI: "https://github.com/acme/shop.git", CommitSHA: "0123abcd", ScanStatus: store.ScanCompleted,
	GeneratedAt: time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC),
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := sariftest.Schema(t)
	for name, tc := range map[string]struct {
		findings []store.Finding
		meta     Meta
	}{
		"full":          {sampleFindings(), fullMeta},
		"empty":         {nil, Meta{}},
		"bad meta URIs": {sampleFindings(), Meta{InformationURI: "not a uri", RepositoryURI: "/relative", ScanStatus: store.ScanCancelled}},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := SARIF(&buf, tc.findings, tc.meta); err != nil {
				t.Fatal(err)
			}
			if err := validate(t, sch, buf.Bytes()); err != nil {
				t.Fatalf("SARIF does not validate: %v\n%s", err, buf.String())
			}
		})
	}
}

func TestSARIFSchemaRejectsInvalidDocuments(t *testing.T) {
	sch := sariftest.Schema(t)
	var buf bytes.Buffer
	if err := SARIF(&buf, sampleFindings(), fullMeta); err != nil {
		t.Fatal(err)
	}
	mutations := map[string]func(doc map[string]any){
		"wrong version":       func(d map[string]any) { d["version"] = "2.0.0" },
		"no runs":             func(d map[string]any) { delete(d, "runs") },
		"no driver name":      func(d map[string]any) { delete(driver(d), "name") },
		"bad level":           func(d map[string]any) { result(d, 0)["level"] = "critical" },
		"no message":          func(d map[string]any) { delete(result(d, 0), "message") },
		"unknown member":      func(d map[string]any) { result(d, 0)["severity"] = "high" },
		"zero start line":     func(d map[string]any) { region(d)["startLine"] = 0 },
		"bad suppression":     func(d map[string]any) { suppressedResult(d)["suppressions"] = []any{map[string]any{"kind": "ignored"}} },
		"non-string print":    func(d map[string]any) { result(d, 0)["partialFingerprints"] = map[string]any{"vega/v1": 7} },
		"relative driver uri": func(d map[string]any) { driver(d)["informationUri"] = "docs/index.html" },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			mutate(doc)
			raw, _ := json.Marshal(doc)
			if err := validate(t, sch, raw); err == nil {
				t.Fatalf("schema accepted an invalid document (%s)", name)
			}
		})
	}
}

func run0(d map[string]any) map[string]any { return d["runs"].([]any)[0].(map[string]any) }
func driver(d map[string]any) map[string]any {
	return run0(d)["tool"].(map[string]any)["driver"].(map[string]any)
}
func result(d map[string]any, i int) map[string]any {
	return run0(d)["results"].([]any)[i].(map[string]any)
}
func region(d map[string]any) map[string]any {
	loc := result(d, 0)["locations"].([]any)[0].(map[string]any)
	return loc["physicalLocation"].(map[string]any)["region"].(map[string]any)
}
func suppressedResult(d map[string]any) map[string]any {
	for _, r := range run0(d)["results"].([]any) {
		if _, ok := r.(map[string]any)["suppressions"]; ok {
			return r.(map[string]any)
		}
	}
	panic("no suppressed result")
}

func TestSARIFContent(t *testing.T) {
	var buf bytes.Buffer
	if err := SARIF(&buf, sampleFindings(), fullMeta); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name    string
					Version string
					Rules   []struct{ ID string }
				}
			}
			Results []struct {
				RuleID              string
				RuleIndex           int
				Level               string
				PartialFingerprints map[string]string
				Locations           []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
						Region           *struct{ StartLine, EndLine int }
					}
				}
				RelatedLocations []json.RawMessage
				Suppressions     []struct{ Kind, Status, Justification string }
				Properties       map[string]any
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("runs: %d", len(doc.Runs))
	}
	r := doc.Runs[0]
	if r.Tool.Driver.Name != "Vega" || r.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver %+v", r.Tool.Driver)
	}
	wantRules := []string{"codex/hardening", "codex/sql-injection", "codex/uncategorized", "secrets/aws-access-token"}
	if len(r.Tool.Driver.Rules) != len(wantRules) {
		t.Fatalf("rules %+v", r.Tool.Driver.Rules)
	}
	for i, id := range wantRules {
		if r.Tool.Driver.Rules[i].ID != id {
			t.Errorf("rule %d = %s, want %s", i, r.Tool.Driver.Rules[i].ID, id)
		}
	}
	// Ordered critical, medium, low, info.
	wantLevels := []string{"error", "warning", "note", "note"}
	wantRuleIDs := []string{"secrets/aws-access-token", "codex/sql-injection", "codex/uncategorized", "codex/hardening"}
	for i, res := range r.Results {
		if res.Level != wantLevels[i] || res.RuleID != wantRuleIDs[i] || r.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: level %s rule %s index %d", i, res.Level, res.RuleID, res.RuleIndex)
		}
	}
	aws := r.Results[0]
	if aws.PartialFingerprints["vega/v1"] != "fp-aws" {
		t.Errorf("fingerprints %v", aws.PartialFingerprints)
	}
	if len(aws.Suppressions) != 1 || aws.Suppressions[0].Kind != "external" || aws.Suppressions[0].Status != "accepted" ||
		aws.Suppressions[0].Justification != "used_in_tests: fixture key, revoked" {
		t.Errorf("suppressions %+v", aws.Suppressions)
	}
	if aws.Properties["severity"] != "critical" || aws.Properties["status"] != "dismissed" || aws.Properties["confidence"] != "high" {
		t.Errorf("properties %v", aws.Properties)
	}
	loc := aws.Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "config/app.env" || loc.ArtifactLocation.URIBaseID != "SRCROOT" || loc.Region.StartLine != 3 || loc.Region.EndLine != 3 {
		t.Errorf("location %+v", loc)
	}
	sqli := r.Results[1]
	if len(sqli.Suppressions) != 0 || len(sqli.RelatedLocations) != 1 {
		t.Errorf("open finding: suppressions %v related %d", sqli.Suppressions, len(sqli.RelatedLocations))
	}
	odd := r.Results[2].Locations[0].PhysicalLocation
	if odd.ArtifactLocation.URI != "web/my%20file%231.js" || odd.Region != nil {
		t.Errorf("escaped uri / whole-file region: %+v", odd)
	}
	if uri := r.Results[3].Locations[0].PhysicalLocation.ArtifactLocation.URI; uri != "./c:odd/path.txt" {
		t.Errorf("colon path uri %q", uri)
	}
}

func TestSARIFIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	fs := sampleFindings()
	if err := SARIF(&a, fs, fullMeta); err != nil {
		t.Fatal(err)
	}
	fs[0], fs[3] = fs[3], fs[0]
	if err := SARIF(&b, fs, fullMeta); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("SARIF output depends on input order")
	}
}

func TestCSVEscapesFormulas(t *testing.T) {
	var buf bytes.Buffer
	if err := CSV(&buf, sampleFindings(), Meta{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("rows %d header %v", len(rows), rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("column %s starts with a formula character: %q", rows[0][i], cell)
			}
		}
	}
	low := rows[3] // critical, medium, low, info
	if low[col["title"]] != `'=HYPERLINK("http://evil","click")` || low[col["evidence"]] != "'@SUM(1+1)" ||
		low[col["triage_note"]] != "'-2+3" || low[col["recommendation"]] != "'+cmd|' /C calc'!A0" {
		t.Errorf("formula cells not defused: %q", low)
	}
	if rows[1][col["id"]] != "fnd_1" || rows[1][col["cwe"]] != "CWE-798" || rows[1][col["start_line"]] != "3" || rows[1][col["created_at"]] != "2026-11-03T10:00:00Z" {
		t.Errorf("first row %q", rows[1])
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, sampleFindings(), fullMeta); err != nil {
		t.Fatal(err)
	}
	var got struct {
		SchemaVersion int `json:"schema_version"`
		Generator     struct{ Name, Version string }
		ScanID        string               `json:"scan_id"`
		Counts        store.SeverityCounts `json:"finding_counts"`
		Findings      []store.Finding      `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != 1 || got.Generator.Name != "Vega" || got.ScanID != "scan_1" {
		t.Errorf("header %+v", got)
	}
	if got.Counts != (store.SeverityCounts{Critical: 1, Medium: 1, Low: 1, Info: 1}) {
		t.Errorf("counts %+v", got.Counts)
	}
	if len(got.Findings) != 4 || got.Findings[0].ID != "fnd_1" || got.Findings[0].DismissedReason != "used_in_tests" {
		t.Errorf("findings %+v", got.Findings)
	}
	if strings.Contains(buf.String(), "owner_user_id") {
		t.Error("internal fields leaked")
	}
}

// TestEmptyExports: no findings is an empty list in every format, never
// null or a missing key, so a script can iterate without a special case.
func TestEmptyExports(t *testing.T) {
	for _, in := range [][]store.Finding{nil, {}} {
		var js bytes.Buffer
		if err := JSON(&js, in, Meta{}); err != nil {
			t.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		var counts store.SeverityCounts
		if string(doc["findings"]) != "[]" || json.Unmarshal(doc["finding_counts"], &counts) != nil || counts.Total() != 0 {
			t.Errorf("JSON of %#v: findings %s, counts %s", in, doc["findings"], doc["finding_counts"])
		}
		var sarif bytes.Buffer
		if err := SARIF(&sarif, in, Meta{}); err != nil {
			t.Fatal(err)
		}
		var log struct {
			Runs []struct {
				Results json.RawMessage `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(sarif.Bytes(), &log); err != nil || len(log.Runs) != 1 || string(log.Runs[0].Results) != "[]" {
			t.Errorf("SARIF of %#v: %s (%v)", in, sarif.String(), err)
		}
		var csvOut bytes.Buffer
		if err := CSV(&csvOut, in, Meta{}); err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(strings.TrimSpace(csvOut.String()), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "id,") {
			t.Errorf("CSV of %#v: %q", in, csvOut.String())
		}
	}
}
