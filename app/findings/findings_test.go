package findings_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

func TestFingerprintIgnoresLinesAndCosmetics(t *testing.T) {
	base := engine.Report{Title: "SQL injection in login", Category: "Injection", FilePath: "./src/db.go", StartLine: 10}
	moved := base
	moved.StartLine, moved.EndLine = 42, 44
	moved.Title = "SQL  Injection in login!"
	moved.FilePath = "src/db.go"
	if findings.Fingerprint("codex", base) != findings.Fingerprint("codex", moved) {
		t.Fatal("line numbers, spacing, case and ./ must not change the fingerprint")
	}
	for name, r := range map[string]engine.Report{
		"path":     {Title: base.Title, Category: base.Category, FilePath: "src/other.go"},
		"title":    {Title: "XSS in login", Category: base.Category, FilePath: base.FilePath},
		"category": {Title: base.Title, Category: "auth", FilePath: base.FilePath},
	} {
		if findings.Fingerprint("codex", r) == findings.Fingerprint("codex", base) {
			t.Errorf("%s must change the fingerprint", name)
		}
	}
	if findings.Fingerprint("secrets", base) == findings.Fingerprint("codex", base) {
		t.Error("engine must change the fingerprint")
	}
	a := engine.Report{Key: "rule:aaa", StableKey: true, Title: "AWS key", Category: "aws", FilePath: "a.env"}
	b := a
	b.Key = "rule:bbb"
	if findings.Fingerprint("secrets", a) == findings.Fingerprint("secrets", b) {
		t.Error("a stable key must separate two secrets of one rule in one file")
	}
	b.StableKey, a.StableKey = false, false
	if findings.Fingerprint("secrets", a) != findings.Fingerprint("secrets", b) {
		t.Error("an unstable key must not join the fingerprint")
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{"./a/b": "a/b", "/a//b/": "a/b", `a\b`: "a/b", "../../etc/passwd": "etc/passwd", "": "", ".": ""} {
		if got := findings.NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

type fixture struct {
	env  *scantest.Env
	user *store.User
	repo *store.Repository
}

// newFixture opens a store holding a user who owns a one-file repository.
func newFixture(t *testing.T, open func(testing.TB) *scantest.Env) *fixture {
	env := open(t)
	u := env.User(t)
	repo, _ := env.Repo(t, u.ID, map[string]string{"x": "y"})
	return &fixture{env, u, repo}
}

func (f *fixture) scan(t *testing.T, engines ...string) *store.Scan {
	s := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: f.repo.ID, ProjectID: f.repo.ProjectID, OwnerUserID: f.user.ID,
		SnapshotID: f.repo.LatestSnapshotID, Status: store.ScanRunning, Engines: engines, CreatedAt: time.Now().UTC()}
	if err := f.env.Store.CreateScan(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecorderUpsertsWithinScanAndSanitizes(t *testing.T) {
	scantest.Stores(t, recorderUpsertsWithinScanAndSanitizes)
}

func recorderUpsertsWithinScanAndSanitizes(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	f := newFixture(t, open)
	env := f.env
	s := f.scan(t, "codex")
	rec := findings.NewRecorder(env.Store, s, nil)
	first, err := rec.Record(ctx, "codex", engine.Report{Title: "Path traversal", Severity: "HIGH", Confidence: "sure",
		FilePath: "../../../etc/x", CWE: []string{"22", "CWE-22", "cwe-23"}, Description: strings.Repeat("a", 50000)})
	if err != nil {
		t.Fatal(err)
	}
	if first.Severity != "high" || first.Confidence != "low" || first.FilePath != "etc/x" || len(first.CWE) != 2 || len(first.Description) > 20000 {
		t.Fatalf("report not sanitized: sev=%s conf=%s path=%s cwe=%v len=%d", first.Severity, first.Confidence, first.FilePath, first.CWE, len(first.Description))
	}
	// Same title + path in the same scan updates the same finding.
	second, err := rec.Record(ctx, "codex", engine.Report{Title: "Path traversal", Severity: "critical", FilePath: "etc/x", StartLine: 9})
	if err != nil || second.ID != first.ID || second.Severity != "critical" || second.StartLine != 9 {
		t.Fatalf("update within scan: %+v %v", second, err)
	}
	counts, _ := env.Store.CountFindings(ctx, store.System(), store.FindingFilter{ScanID: s.ID})
	if counts.Total() != 1 || counts.Critical != 1 {
		t.Fatalf("counts %+v", counts)
	}
	hist, _ := env.Store.ListFindingHistory(ctx, first.ID)
	if len(hist) != 1 || hist[0].ToStatus != store.FindingOpen || hist[0].Actor != findings.ActorSystem {
		t.Fatalf("creation history %+v", hist)
	}
}

func TestTriageBulkAndHistory(t *testing.T) { scantest.Stores(t, triageBulkAndHistory) }

func triageBulkAndHistory(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	f := newFixture(t, open)
	env, u, repo := f.env, f.user, f.repo
	s := f.scan(t, "codex")
	rec := findings.NewRecorder(env.Store, s, nil)
	var ids []string
	for _, title := range []string{"A", "B", "C"} {
		x, err := rec.Record(ctx, "codex", engine.Report{Title: title, Severity: "medium", FilePath: "f.go"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
	}
	svc := findings.NewService(env.Store, nil)
	sc := store.OwnedBy(u.ID)
	if _, err := svc.Triage(ctx, sc, u.ID, ids[0], findings.Triage{Status: store.FindingDismissed}); !apperr.IsCode(err, apperr.ValidationFailed) {
		t.Fatalf("a dismissal needs a reason, got %v", err)
	}
	if _, err := svc.Triage(ctx, sc, u.ID, ids[0], findings.Triage{Status: store.FindingFixed}); !apperr.IsCode(err, apperr.ValidationFailed) {
		t.Fatalf("users cannot set fixed, got %v", err)
	}
	note := "  seen in prod "
	got, err := svc.Triage(ctx, sc, u.ID, ids[0], findings.Triage{Status: store.FindingConfirmed, Note: &note})
	if err != nil || got.Status != store.FindingConfirmed || got.TriageNote != "seen in prod" {
		t.Fatalf("triage: %+v %v", got, err)
	}
	other := e2(t, env)
	if _, err := svc.Triage(ctx, store.OwnedBy(other), other, ids[0], findings.Triage{Status: store.FindingOpen}); !apperr.IsCode(err, apperr.NotFound) {
		t.Fatalf("another user's finding is not found, got %v", err)
	}
	res, err := svc.BulkTriage(ctx, sc, u.ID, findings.BulkTriage{IDs: []string{ids[1], ids[2], ids[2], "fnd_missing"},
		Triage: findings.Triage{Status: store.FindingDismissed, DismissedReason: store.DismissWontFix}})
	if err != nil || res.Matched != 2 || res.Changed != 2 || len(res.NotFound) != 1 {
		t.Fatalf("bulk: %+v %v", res, err)
	}
	hist, err := svc.History(ctx, sc, ids[1])
	if err != nil || len(hist) != 2 || hist[1].FromStatus != store.FindingOpen || hist[1].ToStatus != store.FindingDismissed ||
		hist[1].Reason != store.DismissWontFix || hist[1].Actor != u.ID {
		t.Fatalf("history: %+v %v", hist, err)
	}
	list, err := svc.ListForRepository(ctx, sc, repo.ID, findings.Query{Status: "dismissed"}, store.Page{})
	if err != nil || len(list.Items) != 2 || list.Total != 2 || list.Counts != (store.StatusCounts{Open: 0, Confirmed: 1, Dismissed: 2}) {
		t.Fatalf("filter by status: %+v %v", list, err)
	}
	if _, err := svc.ListForRepository(ctx, sc, repo.ID, findings.Query{Severity: "urgent"}, store.Page{}); !apperr.IsCode(err, apperr.ValidationFailed) {
		t.Fatalf("bad severity filter: %v", err)
	}
	list, err = svc.ListForScan(ctx, sc, s.ID, findings.Query{}, store.Page{})
	if err != nil || len(list.Items) != 3 || list.Total != 3 {
		t.Fatalf("scan findings: %+v %v", list, err)
	}
	stats, _ := env.Store.ProjectStats(ctx, sc, repo.ProjectID)
	if stats.OpenFindingCounts.Medium != 1 {
		t.Fatalf("project rollup counts open+confirmed only: %+v", stats.OpenFindingCounts)
	}
}

func e2(t *testing.T, env *scantest.Env) string { return env.User(t).ID }
