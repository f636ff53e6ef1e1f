package findings_test

import (
	"context"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

func TestSuppressedFindingsAreDismissedVisibly(t *testing.T) {
	scantest.Stores(t, suppressedFindingsAreDismissedVisibly)
}

func suppressedFindingsAreDismissedVisibly(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	f := newFixture(t, open)
	env, u, repo := f.env, f.user, f.repo

	sup := &store.Suppression{Kind: store.SuppressVegaIgnore, FilePath: "a.env", Line: 1, Text: "# vega:ignore test fixture", Reason: "test fixture"}
	listed := &store.Suppression{Kind: store.SuppressGitleaksIgnore, FilePath: ".gitleaksignore", Line: 2, Text: "b.env:aws-access-token:3", RuleID: "aws-access-token"}
	rep := func(key, file string, line int, s *store.Suppression) engine.Report {
		return engine.Report{Key: key, StableKey: true, Title: "AWS access key in " + file, Severity: "critical", Category: "aws-access-token",
			FilePath: file, StartLine: line, Suppression: s}
	}
	scanWith := func(reps ...engine.Report) map[string]*store.Finding {
		t.Helper()
		s := f.scan(t, "secrets")
		rec := findings.NewRecorder(env.Store, s, nil)
		out := map[string]*store.Finding{}
		for _, r := range reps {
			got, err := rec.Record(ctx, "secrets", r)
			if err != nil {
				t.Fatal(err)
			}
			out[r.Key] = got
		}
		if _, err := rec.MarkFixed(ctx); err != nil {
			t.Fatal(err)
		}
		for k, v := range out {
			if out[k], _ = env.Store.GetFinding(ctx, store.System(), v.ID); out[k] == nil {
				t.Fatalf("finding %s vanished", v.ID)
			}
		}
		return out
	}
	dismissedBySource := func(what string, x *store.Finding) {
		t.Helper()
		if x.Status != store.FindingDismissed || x.DismissedReason != store.DismissSuppressedInSource || x.Suppression == nil {
			t.Errorf("%s: want dismissed/suppressed_in_source with details, got %s/%s %+v", what, x.Status, x.DismissedReason, x.Suppression)
		}
	}

	// ignoreSuppressions sets the project's honor_suppressions off (true) or on.
	ignoreSuppressions := func(ignore bool) {
		t.Helper()
		if _, err := env.Store.UpdateProject(ctx, store.System(), repo.ProjectID, func(p *store.Project) error {
			p.IgnoreSuppressions = ignore
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// 1. New findings: suppressed ones are recorded, dismissed, with details.
	got := scanWith(rep("k1", "a.env", 2, sup), rep("k2", "b.env", 3, listed), rep("k3", "c.env", 1, nil), rep("k4", "d.env", 1, sup))
	dismissedBySource("vega:ignore", got["k1"])
	dismissedBySource(".gitleaksignore", got["k2"])
	if s := got["k1"].Suppression; s.FilePath != "a.env" || s.Line != 1 || s.Text != "# vega:ignore test fixture" || s.Reason != "test fixture" {
		t.Errorf("suppression details: %+v", s)
	}
	if s := got["k2"].Suppression; s.Text != "b.env:aws-access-token:3" {
		t.Errorf("a .gitleaksignore entry of the finding itself is kept verbatim: %q", s.Text)
	}
	if got["k3"].Status != store.FindingOpen || got["k3"].Suppression != nil {
		t.Errorf("unsuppressed: %+v", got["k3"])
	}
	hist, err := env.Store.ListFindingHistory(ctx, got["k1"].ID)
	if err != nil || len(hist) != 2 || hist[0].Reason != "detected" || hist[1].Reason != findings.ReasonSuppressed || hist[1].ToStatus != store.FindingDismissed {
		t.Errorf("history of a new suppressed finding: %+v %v", hist, err)
	}

	// A user's own dismissal is never overwritten; a user's confirmation stands.
	svc := findings.NewService(env.Store, nil)
	if _, err := svc.Triage(ctx, store.System(), u.ID, got["k4"].ID, findings.Triage{Status: store.FindingDismissed, DismissedReason: store.DismissWontFix}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Triage(ctx, store.System(), u.ID, got["k3"].ID, findings.Triage{Status: store.FindingConfirmed}); err != nil {
		t.Fatal(err)
	}

	// 2. The suppression of k1 is removed: it reopens. k3 gains one but was
	// confirmed by a user: it stays confirmed. k4's comment goes away: the
	// user's dismissal stays.
	got = scanWith(rep("k1", "a.env", 2, nil), rep("k2", "b.env", 3, listed), rep("k3", "c.env", 1, sup), rep("k4", "d.env", 1, nil))
	if got["k1"].Status != store.FindingOpen || got["k1"].DismissedReason != "" || got["k1"].Suppression != nil {
		t.Errorf("removed suppression must reopen: %s/%s %+v", got["k1"].Status, got["k1"].DismissedReason, got["k1"].Suppression)
	}
	dismissedBySource("kept", got["k2"])
	if got["k3"].Status != store.FindingConfirmed {
		t.Errorf("a confirmed finding must stay confirmed: %s", got["k3"].Status)
	}
	if got["k4"].Status != store.FindingDismissed || got["k4"].DismissedReason != store.DismissWontFix {
		t.Errorf("a user's dismissal was overwritten: %s/%s", got["k4"].Status, got["k4"].DismissedReason)
	}
	hist, _ = env.Store.ListFindingHistory(ctx, got["k1"].ID)
	if last := hist[len(hist)-1]; last.Reason != findings.ReasonSuppressionRemoved || last.ToStatus != store.FindingOpen || last.Actor != findings.ActorSystem {
		t.Errorf("reopen history: %+v", last)
	}

	// 3. The project stops honouring suppressions: every suppressed finding
	// comes back open, with its suppression still shown.
	ignoreSuppressions(true)
	got = scanWith(rep("k1", "a.env", 2, sup), rep("k2", "b.env", 3, listed))
	for _, k := range []string{"k1", "k2"} {
		if got[k].Status != store.FindingOpen || got[k].Suppression == nil {
			t.Errorf("%s with suppressions not honoured: %s %+v", k, got[k].Status, got[k].Suppression)
		}
	}

	// 4. Honoured again: dismissed again.
	ignoreSuppressions(false)
	got = scanWith(rep("k1", "a.env", 2, sup), rep("k2", "b.env", 3, listed))
	dismissedBySource("re-honoured", got["k1"])
	dismissedBySource("re-honoured", got["k2"])
}
