package postgres

import "github.com/vegasec/vega/store"

// countSource picks where the counts of findings matching f come from: the
// finding_counts table (migration 0013, kept in step by triggers) when f
// filters only on its key columns, which reads a few dozen rows instead of
// every finding of the repository; the findings table otherwise (a scan,
// path, CWE or text filter). It returns the conditions, the table and the
// count expression for that table.
func countSource(sc store.Scope, f store.FindingFilter) (*query, string, string) {
	q := &query{}
	if f.ScanID != "" || f.PathPrefix != "" || f.CWE != "" || f.Query != "" || f.AlsoInScanID != "" || f.NotInScanID != "" {
		findingWhere(q, sc, f)
		return q, "findings", "count(*)"
	}
	q.scope(sc, "owner_user_id")
	for _, c := range []struct {
		col  string
		one  string
		many []string
	}{
		{"project_id", f.ProjectID, nil}, {"repository_id", f.RepositoryID, nil},
		{"severity", "", f.Severities}, {"status", "", f.Statuses}, {"engine", "", f.Engines}, {"rule_id", "", f.Rules},
	} {
		switch {
		case c.one != "":
			q.and(c.col + " = " + q.arg(c.one))
		case len(c.many) > 0:
			q.and(c.col + " = ANY(" + q.arg(c.many) + ")")
		}
	}
	return q, "finding_counts", "sum(n)::bigint"
}
