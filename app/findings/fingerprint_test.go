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
