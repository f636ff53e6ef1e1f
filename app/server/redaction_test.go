package server

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/testutil/srctree"
)

// TestSecretsBesideADetectedKeyLeakNowhere replays the hostile-user report
// (issue 15): two one-line files where gitleaks detects an AWS key and the
// line around it holds a secret no rule matches (a low-entropy value under a
// secret-named key) or a password in a URL. The raw values must not reach
// any surface: findings, events (polling and SSE), the three exports, the
// report.json, report.sarif, events.jsonl, summary.json and debug-bundle.zip
// artifacts, or the database (bolt file bytes or every Postgres row).
func TestSecretsBesideADetectedKeyLeakNowhere(t *testing.T) {
	const (
		lowEntropy = "8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX"
		password   = "Tr0ub4dor-horse"
	)
	raw := []string{srctree.AWSKeyID(21), srctree.AWSKeyID(22), lowEntropy, password}
	leaks := func(surface string, b []byte) {
		t.Helper()
		for _, r := range raw {
			if bytes.Contains(b, []byte(r)) {
				t.Errorf("%s holds %q", surface, r)
			}
		}
	}

	h, tok := scanHarness(t)
	repoID := h.repository(tok, map[string]string{
		"config/aws.json": `{"aws_access_key_id":"` + raw[0] + `","aws_secret_access_key":"` + lowEntropy + `"}` + "\n",
		"deploy/.env":     "AWS_ACCESS_KEY_ID=" + raw[1] + " DATABASE_URL=postgres://admin:" + password + "@db/app\n",
	})
	scan := h.scan(tok, repoID, map[string]any{})
	scanID := scan["id"].(string)

	// Findings: the evidence keeps each line's structure and key names.
	want := map[string]string{
		"config/aws.json": `{"aws_access_key_id":"AKIA…[20 chars]","aws_secret_access_key":"[redacted]"}`,
		"deploy/.env":     "AWS_ACCESS_KEY_ID=AKIA…[20 chars] DATABASE_URL=postgres://admin:[redacted]@db/app",
	}
	list := h.do("GET", "/v1/repositories/"+repoID+"/findings", tok, nil)
	leaks("GET findings", list.Body)
	for _, f := range list.JSON(t)["items"].([]any) {
		f := f.(map[string]any)
		if w, ok := want[f["file_path"].(string)]; ok && f["category"] == "aws-access-token" {
			if f["evidence"] != w {
				t.Errorf("%s evidence\n got %q\nwant %q", f["file_path"], f["evidence"], w)
			}
			delete(want, f["file_path"].(string))
		}
		for _, p := range []string{"/v1/findings/" + f["id"].(string), "/v1/findings/" + f["id"].(string) + "/history"} {
			leaks("GET "+p, h.do("GET", p, tok, nil).Body)
		}
	}
	if len(want) > 0 {
		t.Errorf("no aws-access-token finding for %v", want)
	}
	for _, p := range []string{
		"/v1/scans/" + scanID + "/findings", "/v1/projects/" + scan["project_id"].(string) + "/findings",
		"/v1/scans/" + scanID, "/v1/repositories/" + repoID + "/events",
	} {
		r := h.do("GET", p, tok, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d", p, r.Status)
		}
		leaks("GET "+p, r.Body)
	}

	// Events, polled page by page, then streamed.
	polled := 0
	for after := "0"; after != ""; {
		page := h.do("GET", "/v1/scans/"+scanID+"/events?limit=2&after_seq="+after, tok, nil)
		leaks("polled events", page.Body)
		m := page.JSON(t)
		polled += len(m["items"].([]any))
		after, _ = m["next_cursor"].(string)
	}
	res, err := h.app.HTTP.Test(h.addressed(httptest.NewRequest("GET", "/v1/scans/"+scanID+"/events/stream?access_token="+tok, nil)), -1)
	if err != nil {
		t.Fatal(err)
	}
	stream, _ := io.ReadAll(res.Body)
	res.Body.Close()
	leaks("SSE stream", stream)
	if n := strings.Count(string(stream), "\ndata: ") + strings.Count(string(stream)[:min(len(stream), 6)], "data: "); polled < 4 || n != polled {
		t.Errorf("polled %d events, streamed %d", polled, n)
	}
	if !strings.Contains(string(stream), "finding_updated") {
		t.Error("the stream has no finding_updated event to check")
	}

	// Exports, per repository and per scan.
	for _, format := range []string{"sarif", "csv", "json"} {
		for _, p := range []string{"/v1/repositories/" + repoID + "/findings/export?format=" + format, "/v1/scans/" + scanID + "/findings/export?format=" + format} {
			r := h.do("GET", p, tok, nil)
			if r.Status != 200 || !bytes.Contains(r.Body, []byte("AKIA…[20 chars]")) {
				t.Fatalf("export %s: %d (no redacted evidence in it)", p, r.Status)
			}
			leaks("export "+p, r.Body)
		}
	}

	// Artifacts, the debug bundle entry by entry.
	artifacts := map[string]bool{}
	for _, d := range scan["downloads"].([]any) {
		name := d.(map[string]any)["name"].(string)
		artifacts[name] = true
		r := h.do("GET", "/v1/scans/"+scanID+"/artifacts/"+name, tok, nil)
		if r.Status != 200 {
			t.Fatalf("artifact %s: %d", name, r.Status)
		}
		leaks("artifact "+name, r.Body)
		if name == "debug-bundle.zip" {
			zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr.File {
				rc, _ := f.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				leaks("debug-bundle.zip "+f.Name, b)
			}
		}
	}
	for _, name := range []string{"report.json", "report.sarif", "events.jsonl", "summary.json", "debug-bundle.zip"} {
		if !artifacts[name] {
			t.Errorf("artifact %s missing: %v", name, artifacts)
		}
	}

	// The database.
	if pg, ok := h.env.Store.(*postgres.Store); ok {
		ctx := context.Background()
		rows, err := pg.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, n)
		}
		rows.Close()
		if len(tables) < 10 {
			t.Fatalf("tables: %v", tables)
		}
		for _, table := range tables {
			var dump string
			if err := pg.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM "`+table+`" t`).Scan(&dump); err != nil {
				t.Fatal(err)
			}
			leaks("Postgres table "+table, []byte(dump))
		}
		var evidence int
		if err := pg.Pool().QueryRow(ctx, `SELECT count(*) FROM findings WHERE evidence LIKE '%AKIA…[20 chars]%'`).Scan(&evidence); err != nil || evidence != 2 {
			t.Errorf("findings rows with redacted evidence: %d %v", evidence, err)
		}
	} else {
		db, err := os.ReadFile(filepath.Join(h.env.Config.DataDir, "vega.db"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(db, []byte("AKIA…[20 chars]")) {
			t.Fatal("the bolt file does not hold the findings (nothing was checked)")
		}
		leaks("the bolt file", db)
	}
}

// TestEmptyJSONExport: a repository without findings exports
// "findings": [] (issue 15), not null.
func TestEmptyJSONExport(t *testing.T) {
	h, tok := scanHarness(t)
	repoID := h.repository(tok, map[string]string{"main.go": "package main\n", "README.md": "# clean\n"})
	scanID := h.scan(tok, repoID, map[string]any{})["id"].(string)
	for _, p := range []string{"/v1/repositories/" + repoID + "/findings/export?format=json", "/v1/scans/" + scanID + "/findings/export?format=json",
		"/v1/scans/" + scanID + "/artifacts/report.json"} {
		r := h.do("GET", p, tok, nil)
		if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"findings": []`)) {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
}
