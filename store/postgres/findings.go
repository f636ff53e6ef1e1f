package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var findings = table[store.Finding]{name: "findings", owner: "owner_user_id",
	cols: `id, scan_id, repository_id, project_id, owner_user_id, fingerprint, engine, title, severity,
	confidence, category, rule_id, cwe, file_path, start_line, end_line, description, evidence, recommendation,
	locations, status, dismissed_reason, triage_note, first_seen_scan_id, last_seen_scan_id, created_at, updated_at, suppression`,
	dests: func(f *store.Finding) []any {
		return []any{&f.ID, &f.ScanID, &f.RepositoryID, &f.ProjectID, &f.OwnerUserID, &f.Fingerprint, &f.Engine,
			&f.Title, &f.Severity, &f.Confidence, &f.Category, &f.RuleID, &f.CWE, &f.FilePath, &f.StartLine, &f.EndLine,
			&f.Description, &f.Evidence, &f.Recommendation, jsonCol{&f.Locations}, &f.Status, &f.DismissedReason, &f.TriageNote,
			&f.FirstSeenScanID, &f.LastSeenScanID, &f.CreatedAt, &f.UpdatedAt, jsonCol{&f.Suppression}}
	}}

var findingHistory = table[store.FindingHistory]{name: "finding_history",
	cols: `id, finding_id, actor, from_status, to_status, reason, note, at`,
	dests: func(h *store.FindingHistory) []any {
		return []any{&h.ID, &h.FindingID, &h.Actor, &h.FromStatus, &h.ToStatus, &h.Reason, &h.Note, &h.At}
	}}

// findingScalarCols are what TriageFindings hands fn (the scalar fields, as
// the bbolt store does): not reading CWE, locations, suppression and the long
// texts of 10,000 rows halves what a bulk triage transfers and decodes.
const findingScalarCols = `id, scan_id, repository_id, project_id, owner_user_id, fingerprint, engine, title, severity,
	confidence, category, rule_id, file_path, start_line, end_line, status, dismissed_reason, triage_note,
	first_seen_scan_id, last_seen_scan_id, created_at, updated_at`

func scanFindingScalars(r pgx.Row) (store.Finding, error) {
	var f store.Finding
	err := r.Scan(&f.ID, &f.ScanID, &f.RepositoryID, &f.ProjectID, &f.OwnerUserID, &f.Fingerprint, &f.Engine,
		&f.Title, &f.Severity, &f.Confidence, &f.Category, &f.RuleID, &f.FilePath, &f.StartLine, &f.EndLine,
		&f.Status, &f.DismissedReason, &f.TriageNote, &f.FirstSeenScanID, &f.LastSeenScanID, &f.CreatedAt, &f.UpdatedAt)
	return f, err
}

func findingArgs(f *store.Finding) []any {
	return []any{f.ID, f.ScanID, f.RepositoryID, f.ProjectID, f.OwnerUserID, f.Fingerprint, f.Engine,
		f.Title, f.Severity, f.Confidence, f.Category, f.RuleID, f.CWE, f.FilePath, f.StartLine, f.EndLine,
		f.Description, f.Evidence, f.Recommendation, toJSON(f.Locations), f.Status, f.DismissedReason, f.TriageNote,
		f.FirstSeenScanID, f.LastSeenScanID, f.CreatedAt, f.UpdatedAt, toJSON(f.Suppression)}
}

// CreateFinding stores f. ErrConflict when the repository already has a
// finding with the same fingerprint; ErrNotFound when the repository is missing.
func (s *Store) CreateFinding(ctx context.Context, f *store.Finding) error {
	store.StampUpdated(&f.ID, &f.CreatedAt, &f.UpdatedAt, store.PrefixFinding, s.nowUTC())
	f.CreatedAt, f.UpdatedAt = ts(f.CreatedAt), ts(f.UpdatedAt)
	return findings.create(ctx, s, "create finding", findingArgs(f)...)
}

func (s *Store) GetFinding(ctx context.Context, sc store.Scope, id string) (*store.Finding, error) {
	return findings.get(ctx, s, "get finding", sc, id)
}

func (s *Store) GetFindingByFingerprint(ctx context.Context, repositoryID, fingerprint string) (*store.Finding, error) {
	if fingerprint == "" {
		return nil, store.ErrNotFound
	}
	return findings.getWhere(ctx, s, "get finding by fingerprint", `repository_id = $1 AND fingerprint = $2`, repositoryID, fingerprint)
}

func (s *Store) UpdateFinding(ctx context.Context, sc store.Scope, id string, fn func(*store.Finding) error) (*store.Finding, error) {
	return findings.update(ctx, s, "update finding", sc, id, fn,
		func(old, f *store.Finding) {
			f.ID, f.OwnerUserID, f.RepositoryID, f.ProjectID = old.ID, old.OwnerUserID, old.RepositoryID, old.ProjectID
		},
		func(ctx context.Context, tx pgx.Tx, f *store.Finding) error {
			f.CreatedAt, f.UpdatedAt = ts(f.CreatedAt), ts(f.UpdatedAt)
			_, err := tx.Exec(ctx, `UPDATE findings SET scan_id=$2, repository_id=$3, project_id=$4,
				owner_user_id=$5, fingerprint=$6, engine=$7, title=$8, severity=$9, confidence=$10,
				category=$11, rule_id=$12, cwe=$13, file_path=$14, start_line=$15, end_line=$16, description=$17,
				evidence=$18, recommendation=$19, locations=$20, status=$21, dismissed_reason=$22,
				triage_note=$23, first_seen_scan_id=$24, last_seen_scan_id=$25, created_at=$26,
				updated_at=$27, suppression=$28 WHERE id=$1`, findingArgs(f)...)
			return mapErr("update finding", err)
		})
}

// findingWhere turns a filter into indexed predicates (see the migrations:
// per-repository composite indexes, GIN on cwe, trigram GIN on search for q).
// searchSeparator joins the fields of the findings.search column.
const searchSeparator = '\x1f'

func findingWhere(q *query, sc store.Scope, f store.FindingFilter) {
	q.scope(sc, "owner_user_id")
	if f.ProjectID != "" {
		q.and("project_id = " + q.arg(f.ProjectID))
	}
	if f.RepositoryID != "" {
		q.and("repository_id = " + q.arg(f.RepositoryID))
	}
	if f.ScanID != "" {
		q.and("id IN (SELECT finding_id FROM scan_findings WHERE scan_id = " + q.arg(f.ScanID) + ")")
	}
	if len(f.Severities) > 0 {
		q.and("severity = ANY(" + q.arg(f.Severities) + ")")
	}
	if len(f.Statuses) > 0 {
		q.and("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	if len(f.Engines) > 0 {
		q.and("engine = ANY(" + q.arg(f.Engines) + ")")
	}
	if len(f.Rules) > 0 {
		q.and("rule_id = ANY(" + q.arg(f.Rules) + ")")
	}
	if f.AlsoInScanID != "" {
		q.and("id IN (SELECT finding_id FROM scan_findings WHERE scan_id = " + q.arg(f.AlsoInScanID) + ")")
	}
	if f.NotInScanID != "" {
		q.and("NOT EXISTS (SELECT 1 FROM scan_findings x WHERE x.scan_id = " + q.arg(f.NotInScanID) + " AND x.finding_id = findings.id)")
	}
	if f.PathPrefix != "" {
		// starts_with, not LIKE: a prefix containing % or _ matches literally.
		q.and("starts_with(file_path, " + q.arg(f.PathPrefix) + ")")
	}
	if f.CWE != "" {
		q.and("cwe @> ARRAY[" + q.arg(f.CWE) + "]::text[]")
	}
	switch {
	case f.Query == "":
	case strings.ContainsRune(f.Query, searchSeparator):
		// The separator would let a term span two fields of the search
		// column; match the columns one by one instead (slow but exact).
		p := q.arg("%" + escapeLike(f.Query) + "%")
		q.and("(title ILIKE " + p + " OR description ILIKE " + p + " OR file_path ILIKE " + p + " OR rule_id ILIKE " + p + ")")
	default:
		// search = lower(title ␟ description ␟ file_path ␟ rule_id), see 0002 and 0009.
		q.and("search LIKE lower(" + q.arg("%"+escapeLike(f.Query)+"%") + ")")
	}
}

func (s *Store) ListFindings(ctx context.Context, sc store.Scope, f store.FindingFilter, p store.Page) ([]store.Finding, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	findingWhere(&q, sc, f)
	if f.Sort.Key == "" {
		return findings.list(ctx, s, "list findings", &q, p)
	}
	// Keyset paging over (key, file_path, id), compared byte-wise (COLLATE
	// "C") as the bbolt store and store.FindingSort.Compare do. A rank key
	// sorted descending is negated so the three columns share one
	// direction: the cursor is then one row comparison that an index on
	// (repository_id, key, file_path, id) serves as a range (0009).
	p = p.Normalize()
	key, dir := sortExpr(f.Sort)
	if p.Cursor != "" {
		after, err := f.Sort.ParseCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		path, id := q.arg(after.Path), q.arg(after.ID)
		switch {
		case f.Sort.Numeric():
			n := after.N
			if f.Sort.Desc {
				n = -n
			}
			q.and("(" + key + `, file_path COLLATE "C", id COLLATE "C") > (` + q.arg(n) + "::integer, " + path + "::text, " + id + "::text)")
		case !f.Sort.Desc:
			q.and("(" + key + `, file_path COLLATE "C", id COLLATE "C") > (` + q.arg(after.S) + "::text, " + path + "::text, " + id + "::text)")
		default:
			v := q.arg(after.S)
			q.and("(" + key + " < " + v + " OR (" + key + " = " + v + ` AND (file_path COLLATE "C", id COLLATE "C") > (` + path + "::text, " + id + "::text)))")
		}
	}
	sql := `SELECT ` + findings.cols + ` FROM findings` + q.whereSQL() + ` ORDER BY ` + key + ` ` + dir +
		`, file_path COLLATE "C", id COLLATE "C" LIMIT ` + strconv.Itoa(p.Limit+1)
	items, err := collect(ctx, s.pool, "list findings", sql, q.args, findings.scan)
	if err != nil {
		return nil, "", err
	}
	if len(items) <= p.Limit {
		return items, "", nil
	}
	items = items[:p.Limit]
	return items, f.Sort.Cursor(&items[p.Limit-1]), nil
}

// sortExpr is the SQL of a sort key's value and its direction; ranks
// sorted descending are negated and sorted ascending instead.
func sortExpr(s store.FindingSort) (string, string) {
	dir := "ASC"
	if s.Desc {
		dir = "DESC"
	}
	neg := ""
	if s.Desc {
		neg = "-"
	}
	switch s.Key {
	case store.SortSeverity:
		return "(" + neg + rankExpr("severity", store.Severities, true) + ")", "ASC"
	case store.SortStatus:
		return "(" + neg + rankExpr("status", store.FindingStatuses, false) + ")", "ASC"
	case store.SortPath:
		return `file_path COLLATE "C"`, dir
	case store.SortRule:
		return `rule_id COLLATE "C"`, dir
	case store.SortFirstSeen:
		return `first_seen_scan_id COLLATE "C"`, dir
	default:
		return `last_seen_scan_id COLLATE "C"`, dir
	}
}

// rankExpr maps col's values to their rank as store.SeverityRank and
// store.FindingStatusRank do (highest first when reversed), -1 when unknown.
func rankExpr(col string, values []string, reversed bool) string {
	var b strings.Builder
	b.WriteString("(CASE " + col)
	for i, v := range values {
		r := i
		if reversed {
			r = len(values) - 1 - i
		}
		b.WriteString(" WHEN '" + v + "' THEN " + strconv.Itoa(r))
	}
	b.WriteString(" ELSE -1 END)")
	return b.String()
}

func (s *Store) CountFindings(ctx context.Context, sc store.Scope, f store.FindingFilter) (store.SeverityCounts, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	q, from, n := countSource(sc, f)
	var counts []byte
	err := s.pool.QueryRow(ctx, `SELECT coalesce(jsonb_object_agg(severity, n), '{}') FROM
		(SELECT severity, `+n+` AS n FROM `+from+q.whereSQL()+` GROUP BY severity HAVING `+n+` <> 0) c`, q.args...).Scan(&counts)
	if err != nil {
		return store.SeverityCounts{}, mapErr("count findings", err)
	}
	return severityCounts(counts)
}

func (s *Store) CountFindingsByStatus(ctx context.Context, sc store.Scope, f store.FindingFilter) (store.StatusCounts, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	f.Statuses = nil
	q, from, n := countSource(sc, f)
	var counts store.StatusCounts
	rows, err := collect(ctx, s.pool, "count findings by status", `SELECT status, `+n+` FROM `+from+q.whereSQL()+` GROUP BY status HAVING `+n+` <> 0`,
		q.args, func(r pgx.Row) (struct {
			s string
			n int
		}, error) {
			var x struct {
				s string
				n int
			}
			err := r.Scan(&x.s, &x.n)
			return x, err
		})
	for _, x := range rows {
		counts.Add(x.s, x.n)
	}
	return counts, err
}

func (s *Store) ListFindingRules(ctx context.Context, sc store.Scope, f store.FindingFilter) ([]store.RuleGroup, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	q, from, n := countSource(sc, f)
	type row struct {
		rule, sev string
		n         int
	}
	rows, err := collect(ctx, s.pool, "list finding rules", `SELECT rule_id, severity, `+n+` FROM `+from+q.whereSQL()+
		` GROUP BY rule_id, severity HAVING `+n+` <> 0`, q.args, func(r pgx.Row) (row, error) {
		var x row
		err := r.Scan(&x.rule, &x.sev, &x.n)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	groups := store.RuleGroups{}
	for _, x := range rows {
		groups.Add(x.rule, x.sev, x.n)
	}
	return groups.Sorted(), nil
}

func (s *Store) FindingIDs(ctx context.Context, sc store.Scope, f store.FindingFilter, limit int) ([]string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	findingWhere(&q, sc, f)
	return collect(ctx, s.pool, "finding ids", `SELECT id FROM findings`+q.whereSQL()+` ORDER BY id DESC LIMIT `+strconv.Itoa(max(limit, 0)),
		q.args, func(r pgx.Row) (string, error) {
			var id string
			err := r.Scan(&id)
			return id, err
		})
}

// TriageFindings locks the rows, applies fn in Go and writes every change
// and history entry with one UPDATE and one INSERT over arrays: a bulk
// triage of 10,000 findings is three statements, not 20,000.
func (s *Store) TriageFindings(ctx context.Context, sc store.Scope, ids []string, fn func(*store.Finding) *store.FindingHistory) (int, []string, error) {
	changed, missing := 0, []string{}
	err := s.inTx(ctx, "triage findings", func(tx pgx.Tx) error {
		changed, missing = 0, missing[:0]
		var q query
		q.and("id = ANY(" + q.arg(ids) + ")")
		q.scope(sc, "owner_user_id")
		found, err := collect(ctx, tx, "triage findings", `SELECT `+findingScalarCols+` FROM findings`+q.whereSQL()+` ORDER BY id FOR UPDATE`, q.args, scanFindingScalars)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(found))
		var fid, status, reason, note []string
		var updated []time.Time
		var hid, hfid, hactor, hfrom, hto, hreason, hnote []string
		var hat []time.Time
		for i := range found {
			f := found[i]
			seen[f.ID] = true
			h := fn(&f)
			if h == nil {
				continue
			}
			if h.ID == "" {
				h.ID = store.NewID(store.PrefixHistory)
			}
			h.FindingID, h.At = f.ID, ts(h.At)
			fid, status, reason, note, updated = append(fid, f.ID), append(status, f.Status), append(reason, f.DismissedReason),
				append(note, f.TriageNote), append(updated, ts(f.UpdatedAt))
			hid, hfid, hactor, hfrom, hto = append(hid, h.ID), append(hfid, h.FindingID), append(hactor, h.Actor), append(hfrom, h.FromStatus), append(hto, h.ToStatus)
			hreason, hnote, hat = append(hreason, h.Reason), append(hnote, h.Note), append(hat, h.At)
		}
		for _, id := range ids {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		if len(fid) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE findings f SET status = u.status, dismissed_reason = u.reason, triage_note = u.note,
			updated_at = u.updated FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
			AS u(id, status, reason, note, updated) WHERE f.id = u.id`, fid, status, reason, note, updated); err != nil {
			return mapErr("triage findings", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO finding_history (`+findingHistory.cols+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])`,
			hid, hfid, hactor, hfrom, hto, hreason, hnote, hat); err != nil {
			return mapErr("triage findings history", err)
		}
		changed = len(fid)
		return nil
	})
	return changed, missing, err
}

// PutScanFinding links a scan to a finding under key; repeating it is a no-op
// and re-pointing the key moves the link. ErrNotFound when the scan or the
// finding is missing.
func (s *Store) PutScanFinding(ctx context.Context, sf store.ScanFinding) error {
	if sf.Key == "" || sf.FindingID == "" {
		return errors.New("postgres: scan finding needs a key and a finding ID")
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO scan_findings (scan_id, key, finding_id) VALUES ($1, $2, $3)
		ON CONFLICT (scan_id, key) DO UPDATE SET finding_id = EXCLUDED.finding_id
		WHERE scan_findings.finding_id <> EXCLUDED.finding_id`, sf.ScanID, sf.Key, sf.FindingID)
	return mapErr("put scan finding", err)
}

func (s *Store) GetScanFinding(ctx context.Context, scanID, key string) (string, error) {
	if key == "" {
		return "", store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var id string
	err := s.pool.QueryRow(ctx, `SELECT finding_id FROM scan_findings WHERE scan_id = $1 AND key = $2`, scanID, key).Scan(&id)
	return id, mapErr("get scan finding", err)
}

// AppendFindingHistory stores h; ErrNotFound when the finding does not exist.
func (s *Store) AppendFindingHistory(ctx context.Context, h *store.FindingHistory) error {
	store.Stamp(&h.ID, &h.At, store.PrefixHistory, s.nowUTC())
	h.At = ts(h.At)
	return findingHistory.create(ctx, s, "append finding history", h.ID, h.FindingID, h.Actor, h.FromStatus, h.ToStatus, h.Reason, h.Note, h.At)
}

// ListFindingHistory returns the finding's history oldest first (by At, then ID).
func (s *Store) ListFindingHistory(ctx context.Context, findingID string) ([]store.FindingHistory, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list finding history", `SELECT `+findingHistory.cols+` FROM finding_history
		WHERE finding_id = $1 ORDER BY at, id`, []any{findingID}, findingHistory.scan)
}

// FindingTimelines returns the findings matching f with their status changes
// at or after since, oldest first (store.FindingStore): two queries, the
// findings and their recent history.
func (s *Store) FindingTimelines(ctx context.Context, sc store.Scope, f store.FindingFilter, since time.Time) ([]store.FindingTimeline, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	findingWhere(&q, sc, f)
	out, err := collect(ctx, s.pool, "finding timelines", `SELECT id, repository_id, severity, status FROM findings`+q.whereSQL(),
		q.args, func(r pgx.Row) (store.FindingTimeline, error) {
			var t store.FindingTimeline
			err := r.Scan(&t.ID, &t.RepositoryID, &t.Severity, &t.Status)
			return t, err
		})
	if err != nil || len(out) == 0 {
		return out, err
	}
	at := make(map[string]int, len(out))
	for i := range out {
		at[out[i].ID] = i
	}
	type change struct {
		id string
		store.StatusChange
	}
	args := append(q.args, since)
	changes, err := collect(ctx, s.pool, "finding timelines history", `SELECT finding_id, from_status, to_status, at FROM finding_history
		WHERE at >= $`+strconv.Itoa(len(args))+` AND finding_id IN (SELECT id FROM findings`+q.whereSQL()+`) ORDER BY at, id`,
		args, func(r pgx.Row) (change, error) {
			var c change
			err := r.Scan(&c.id, &c.From, &c.To, &c.At)
			return c, err
		})
	for _, c := range changes {
		if i, ok := at[c.id]; ok {
			out[i].Changes = append(out[i].Changes, c.StatusChange)
		}
	}
	return out, err
}
