package findings_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// v1 is the fingerprint recipe of every finding stored before v2, written
// out here so a change to it cannot go unnoticed: stored fingerprints of
// reports without a stable key must keep matching.
func v1(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(append([]string{"v1"}, parts...), "\x1f")))
	return hex.EncodeToString(sum[:16])
}

func TestFingerprintRecipes(t *testing.T) {
	audit := engine.Report{Title: "SQL injection in login", Category: "Injection", FilePath: "./src/db.go"}
	if got := findings.Fingerprint("codex", audit); got != v1("codex", "injection", "src/db.go", "sql injection in login") {
		t.Errorf("the fingerprint of a report without a stable key changed: %s", got)
	}
	noCategory := engine.Report{Title: "X", CWE: []string{"89", "CWE-22"}, FilePath: "a"}
	if got := findings.Fingerprint("codex", noCategory); got != v1("codex", "CWE-22,CWE-89", "a", "x") {
		t.Errorf("the CWE fallback changed: %s", got)
	}
	// A stable key is the identity: the path and title an engine gives its
	// finding (the first location in scope) do not matter.
	full := engine.Report{Key: "aws-access-token:0a1b", StableKey: true, Title: "AWS access key in app.env", Category: "aws-access-token", FilePath: "app.env"}
	scoped := full
	scoped.Title, scoped.FilePath, scoped.StartLine = "AWS access key in config/app.env", "config/app.env", 7
	if findings.Fingerprint("secrets", full) != findings.Fingerprint("secrets", scoped) {
		t.Error("a stable-key fingerprint depends on the path or title")
	}
	if findings.Fingerprint("secrets", full) == v1("secrets", "aws-access-token", "app.env", "aws access key in app env", full.Key) {
		t.Error("stable-key fingerprints must not collide with the v1 recipe")
	}
}

func TestLegacyFingerprintIsReKeyed(t *testing.T) { scantest.Stores(t, legacyFingerprintIsReKeyed) }

// legacyFingerprintIsReKeyed: a secret dismissed before fingerprints v2 is
// stored under the v1 recipe (path and title included). Seen again, it is
// found by that recipe, keeps its triage and takes the v2 fingerprint, so a
// later scoped scan finds it too.
func legacyFingerprintIsReKeyed(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	f := newFixture(t, open)
	env, u, repo := f.env, f.user, f.repo
	// Today's title; the legacy finding below was stored with the old "… in app.env" one.
	rep := engine.Report{Key: "aws-access-token:0a1b", StableKey: true, Title: "AWS access key", Category: "aws-access-token",
		FilePath: "app.env", Severity: "high", Locations: []store.Location{{FilePath: "app.env"}, {FilePath: "config/app.env"}}}
	old := f.scan(t, "secrets")
	now := time.Now().UTC()
	legacy := &store.Finding{ID: store.NewID(store.PrefixFinding), RepositoryID: repo.ID, ProjectID: repo.ProjectID, OwnerUserID: u.ID,
		Fingerprint: v1("secrets", "aws-access-token", "app.env", "aws access key in app env", rep.Key), Engine: "secrets",
		Title: "AWS access key in app.env", Severity: "high", Confidence: "high", Category: rep.Category, FilePath: rep.FilePath,
		Status: store.FindingDismissed, DismissedReason: "used_in_tests", ScanID: old.ID, FirstSeenScanID: old.ID, LastSeenScanID: old.ID,
		CreatedAt: now, UpdatedAt: now}
	if err := env.Store.CreateFinding(ctx, legacy); err != nil {
		t.Fatal(err)
	}

	got, err := findings.NewRecorder(env.Store, f.scan(t, "secrets"), nil).Record(ctx, "secrets", rep)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != legacy.ID || got.Status != store.FindingDismissed || got.FirstSeenScanID != old.ID || got.Fingerprint != findings.Fingerprint("secrets", rep) {
		t.Fatalf("legacy finding not re-keyed: id %s (want %s) status %s fingerprint %s", got.ID, legacy.ID, got.Status, got.Fingerprint)
	}
	scoped := rep
	scoped.FilePath, scoped.Locations = "config/app.env", []store.Location{{FilePath: "config/app.env"}}
	again, err := findings.NewRecorder(env.Store, f.scan(t, "secrets"), nil).Record(ctx, "secrets", scoped)
	if err != nil || again.ID != legacy.ID || again.Status != store.FindingDismissed {
		t.Fatalf("scoped scan after re-keying: %+v %v", again, err)
	}
	all, _, _ := env.Store.ListFindings(ctx, store.System(), store.FindingFilter{RepositoryID: repo.ID}, store.Page{Limit: 10})
	if len(all) != 1 {
		t.Fatalf("%d findings, want the one", len(all))
	}
}

func TestFormerTitleIsReKeyed(t *testing.T) { scantest.Stores(t, formerTitleIsReKeyed) }

// formerTitleIsReKeyed: a Codex finding triaged while its title still
// repeated its path ("SQL injection in app/db.py:5") is stored under the v1
// fingerprint of that title. Codex now reports the title without the path
// and the old one as FormerTitle (app/engine/codex, titleWithoutPath): the
// recorder finds the finding by the old fingerprint, keeps its triage and
// re-keys it, so the next scan, which no longer carries a former title,
// finds it too (docs/findings.md, "Codex titles").
func formerTitleIsReKeyed(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	f := newFixture(t, open)
	env, u, repo := f.env, f.user, f.repo
	rep := engine.Report{Title: "SQL injection", FormerTitle: "SQL injection in app/db.py:5", Category: "sql_injection",
		FilePath: "app/db.py", StartLine: 5, EndLine: 5, Severity: "critical", Key: "codex:0a1b"}
	if findings.Fingerprint("codex", rep) != v1("codex", "sql_injection", "app/db.py", "sql injection") {
		t.Fatal("the fingerprint must be the v1 recipe of the current title, FormerTitle aside")
	}
	old := f.scan(t, "codex")
	now := time.Now().UTC()
	legacy := &store.Finding{ID: store.NewID(store.PrefixFinding), RepositoryID: repo.ID, ProjectID: repo.ProjectID, OwnerUserID: u.ID,
		Fingerprint: v1("codex", "sql_injection", "app/db.py", "sql injection in app db py 5"), Engine: "codex",
		Title: rep.FormerTitle, Severity: "critical", Confidence: "high", Category: rep.Category, FilePath: rep.FilePath,
		Status: store.FindingDismissed, DismissedReason: "false_positive", ScanID: old.ID, FirstSeenScanID: old.ID, LastSeenScanID: old.ID,
		CreatedAt: now, UpdatedAt: now}
	if err := env.Store.CreateFinding(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	// Another finding of the same file whose title never had the path: a
	// former title must not reach it.
	other, err := findings.NewRecorder(env.Store, old, nil).Record(ctx, "codex", engine.Report{Title: "Verbose errors",
		Category: "info_leak", FilePath: "app/db.py", Severity: "low"})
	if err != nil {
		t.Fatal(err)
	}

	got, err := findings.NewRecorder(env.Store, f.scan(t, "codex"), nil).Record(ctx, "codex", rep)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != legacy.ID || got.Status != store.FindingDismissed || got.FirstSeenScanID != old.ID ||
		got.Fingerprint != findings.Fingerprint("codex", rep) || got.Title != "SQL injection" {
		t.Fatalf("finding not re-keyed: id %s (want %s) status %s title %q fingerprint %s", got.ID, legacy.ID, got.Status, got.Title, got.Fingerprint)
	}
	plain := rep
	plain.FormerTitle = ""
	again, err := findings.NewRecorder(env.Store, f.scan(t, "codex"), nil).Record(ctx, "codex", plain)
	if err != nil || again.ID != legacy.ID || again.Status != store.FindingDismissed {
		t.Fatalf("the scan after re-keying: %+v %v", again, err)
	}
	all, _, _ := env.Store.ListFindings(ctx, store.System(), store.FindingFilter{RepositoryID: repo.ID}, store.Page{Limit: 10})
	if len(all) != 2 {
		t.Fatalf("%d findings, want the re-keyed one and %s", len(all), other.ID)
	}
}
