package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/store/storetest"
)

// TestFindingCountsStayInStep: finding_counts (migration 0013) must always
// equal a GROUP BY over findings, whatever wrote them: concurrent creates in
// one repository, updates of key columns, a bulk triage, deletes.
func TestFindingCountsStayInStep(t *testing.T) {
	s := pgtest.OpenStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: store.NewID("") + "@counts.example", Groups: []string{store.GroupUser}, CreatedAt: now}
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: "counts", CreatedAt: now, UpdatedAt: now}
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must(s.CreateUser(ctx, u), "user")
	must(s.CreateProject(ctx, p), "project")
	var repos []*store.Repository
	for i := 0; i < 2; i++ {
		r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: fmt.Sprint("r", i),
			SourceType: store.SourceGit, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
		must(s.CreateRepository(ctx, r), "repository")
		repos = append(repos, r)
	}
	rules := []string{"xss", "injection", "generic-api-key"}
	var ids []string
	var mu sync.Mutex
	storetest.Parallel(t, 4, func(w int) error {
		for i := w; i < 60; i += 4 {
			f := &store.Finding{ID: store.NewID(store.PrefixFinding), RepositoryID: repos[i%2].ID, ProjectID: p.ID, OwnerUserID: u.ID,
				Fingerprint: fmt.Sprint("fp-", i), Engine: []string{"secrets", "codex"}[i%2], Title: "t", Severity: store.Severities[i%4],
				RuleID: rules[i%3], Category: rules[i%3], FilePath: "a.go", Status: store.FindingOpen, CreatedAt: now, UpdatedAt: now}
			if err := s.CreateFinding(ctx, f); err != nil {
				return err
			}
			mu.Lock()
			ids = append(ids, f.ID)
			mu.Unlock()
		}
		return nil
	})
	check := func(when string) {
		t.Helper()
		var diff int
		err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM (
			(SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, n FROM finding_counts WHERE n <> 0
			 EXCEPT SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, count(*) FROM findings GROUP BY 1, 2, 3, 4, 5, 6, 7)
			UNION ALL
			(SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, count(*) FROM findings GROUP BY 1, 2, 3, 4, 5, 6, 7
			 EXCEPT SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, n FROM finding_counts WHERE n <> 0)) d`).Scan(&diff)
		must(err, "compare counts")
		if diff != 0 {
			t.Fatalf("%s: finding_counts differs from findings in %d groups", when, diff)
		}
	}
	check("after concurrent creates")

	_, err := s.UpdateFinding(ctx, store.System(), ids[0], func(f *store.Finding) error {
		f.Severity, f.RuleID, f.Status = store.SeverityInfo, "renamed", store.FindingFixed
		return nil
	})
	must(err, "update key columns")
	_, err = s.UpdateFinding(ctx, store.System(), ids[1], func(f *store.Finding) error { f.Title = "only the title"; return nil })
	must(err, "update other columns")
	check("after updates")

	changed, _, err := s.TriageFindings(ctx, store.OwnedBy(u.ID), ids[:40], func(f *store.Finding) *store.FindingHistory {
		if f.Status == store.FindingFixed {
			return nil
		}
		f.Status = store.FindingConfirmed
		return &store.FindingHistory{Actor: u.ID, FromStatus: store.FindingOpen, ToStatus: store.FindingConfirmed, At: now}
	})
	must(err, "triage")
	if changed != 39 {
		t.Fatalf("triage changed %d, want 39", changed)
	}
	check("after a bulk triage")
	c, err := s.CountFindingsByStatus(ctx, store.OwnedBy(u.ID), store.FindingFilter{ProjectID: p.ID, Statuses: []string{store.FindingOpen}})
	must(err, "status counts")
	if c.Open != 20 || c.Confirmed != 39 || c.Fixed != 1 {
		t.Fatalf("status counts %+v", c)
	}
	c, err = s.CountFindingsByStatus(ctx, store.OwnedBy(store.NewID(store.PrefixUser)), store.FindingFilter{ProjectID: p.ID})
	must(err, "status counts of another user")
	if c != (store.StatusCounts{}) {
		t.Fatalf("another user counts %+v", c)
	}

	must(s.DeleteRepository(ctx, store.System(), repos[0].ID), "delete repository")
	check("after deleting a repository")
	var left int
	must(s.Pool().QueryRow(ctx, `SELECT count(*) FROM finding_counts WHERE repository_id = $1`, repos[0].ID).Scan(&left), "rows left")
	if left != 0 {
		t.Fatalf("%d count rows left for a deleted repository", left)
	}
}
