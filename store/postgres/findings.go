package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const findingCols = `id, scan_id, repository_id, project_id, owner_user_id, fingerprint, engine, title, severity,
	confidence, category, cwe, file_path, start_line, end_line, description, evidence, recommendation,
	locations, status, dismissed_reason, triage_note, first_seen_scan_id, last_seen_scan_id, created_at, updated_at`

func scanFinding(r pgx.Row) (store.Finding, error) {
	var f store.Finding
	var locs []byte
	if err := r.Scan(&f.ID, &f.ScanID, &f.RepositoryID, &f.ProjectID, &f.OwnerUserID, &f.Fingerprint, &f.Engine,
		&f.Title, &f.Severity, &f.Confidence, &f.Category, &f.CWE, &f.FilePath, &f.StartLine, &f.EndLine,
		&f.Description, &f.Evidence, &f.Recommendation, &locs, &f.Status, &f.DismissedReason, &f.TriageNote,
		&f.FirstSeenScanID, &f.LastSeenScanID, &f.CreatedAt, &f.UpdatedAt); err != nil {
		return f, err
	}
	return f, fromJSON(locs, &f.Locations)
}

func findingArgs(f *store.Finding) []any {
	return []any{f.ID, f.ScanID, f.RepositoryID, f.ProjectID, f.OwnerUserID, f.Fingerprint, f.Engine,
		f.Title, f.Severity, f.Confidence, f.Category, f.CWE, f.FilePath, f.StartLine, f.EndLine,
		f.Description, f.Evidence, f.Recommendation, toJSON(f.Locations), f.Status, f.DismissedReason, f.TriageNote,
		f.FirstSeenScanID, f.LastSeenScanID, f.CreatedAt, f.UpdatedAt}
}

// CreateFinding stores f. ErrConflict when the repository already has a
// finding with the same fingerprint; ErrNotFound when the repository is missing.
func (s *Store) CreateFinding(ctx context.Context, f *store.Finding) error {
	if f.ID == "" {
		f.ID = store.NewID(store.PrefixFinding)
	}
	if f.CreatedAt.IsZero() {
		f.CreatedAt = s.nowUTC()
	}
	if f.UpdatedAt.IsZero() {
		f.UpdatedAt = f.CreatedAt
	}
	f.CreatedAt, f.UpdatedAt = ts(f.CreatedAt), ts(f.UpdatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO findings (`+findingCols+`) VALUES
		($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26)`, findingArgs(f)...)
	return mapErr("create finding", err)
}

func (s *Store) GetFinding(ctx context.Context, sc store.Scope, id string) (*store.Finding, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get finding", "findings", findingCols, "owner_user_id", sc, id, "", scanFinding)
}

func (s *Store) GetFindingByFingerprint(ctx context.Context, repositoryID, fingerprint string) (*store.Finding, error) {
	if fingerprint == "" {
		return nil, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	f, err := scanFinding(s.pool.QueryRow(ctx, `SELECT `+findingCols+` FROM findings
		WHERE repository_id = $1 AND fingerprint = $2`, repositoryID, fingerprint))
	if err != nil {
		return nil, mapErr("get finding by fingerprint", err)
	}
	return &f, nil
}

func (s *Store) UpdateFinding(ctx context.Context, sc store.Scope, id string, fn func(*store.Finding) error) (*store.Finding, error) {
	return updateLocked(ctx, s, "update finding",
		func(ctx context.Context, tx pgx.Tx) (*store.Finding, error) {
			return selectOne(ctx, tx, "update finding", "findings", findingCols, "owner_user_id", sc, id, " FOR UPDATE", scanFinding)
		}, fn,
		func(old, f *store.Finding) {
			f.ID, f.OwnerUserID, f.RepositoryID, f.ProjectID = old.ID, old.OwnerUserID, old.RepositoryID, old.ProjectID
		},
		func(ctx context.Context, tx pgx.Tx, f *store.Finding) error {
			f.CreatedAt, f.UpdatedAt = ts(f.CreatedAt), ts(f.UpdatedAt)
			_, err := tx.Exec(ctx, `UPDATE findings SET scan_id=$2, repository_id=$3, project_id=$4,
				owner_user_id=$5, fingerprint=$6, engine=$7, title=$8, severity=$9, confidence=$10,
				category=$11, cwe=$12, file_path=$13, start_line=$14, end_line=$15, description=$16,
				evidence=$17, recommendation=$18, locations=$19, status=$20, dismissed_reason=$21,
				triage_note=$22, first_seen_scan_id=$23, last_seen_scan_id=$24, created_at=$25,
				updated_at=$26 WHERE id=$1`, findingArgs(f)...)
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
		q.and("(title ILIKE " + p + " OR description ILIKE " + p + " OR file_path ILIKE " + p + ")")
	default:
		// search = lower(title ␟ description ␟ file_path), see 0002_findings_search.sql.
		q.and("search LIKE lower(" + q.arg("%"+escapeLike(f.Query)+"%") + ")")
	}
}

func (s *Store) ListFindings(ctx context.Context, sc store.Scope, f store.FindingFilter, p store.Page) ([]store.Finding, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	findingWhere(&q, sc, f)
	return listPage(ctx, s.pool, "list findings", findingCols, "findings", &q, p, scanFinding, func(x *store.Finding) string { return x.ID })
}

func (s *Store) CountFindings(ctx context.Context, sc store.Scope, f store.FindingFilter) (store.SeverityCounts, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	findingWhere(&q, sc, f)
	var counts []byte
	err := s.pool.QueryRow(ctx, `SELECT coalesce(jsonb_object_agg(severity, n), '{}') FROM
		(SELECT severity, count(*) AS n FROM findings`+q.whereSQL()+` GROUP BY severity) c`, q.args...).Scan(&counts)
	if err != nil {
		return store.SeverityCounts{}, mapErr("count findings", err)
	}
	return severityCounts(counts)
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
	if h.ID == "" {
		h.ID = store.NewID(store.PrefixHistory)
	}
	if h.At.IsZero() {
		h.At = s.nowUTC()
	}
	h.At = ts(h.At)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO finding_history (id, finding_id, actor, from_status, to_status, reason, note, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, h.ID, h.FindingID, h.Actor, h.FromStatus, h.ToStatus, h.Reason, h.Note, h.At)
	return mapErr("append finding history", err)
}

// ListFindingHistory returns the finding's history oldest first (by At, then ID).
func (s *Store) ListFindingHistory(ctx context.Context, findingID string) ([]store.FindingHistory, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list finding history", `SELECT id, finding_id, actor, from_status, to_status,
		reason, note, at FROM finding_history WHERE finding_id = $1 ORDER BY at, id`, []any{findingID},
		func(r pgx.Row) (store.FindingHistory, error) {
			var h store.FindingHistory
			err := r.Scan(&h.ID, &h.FindingID, &h.Actor, &h.FromStatus, &h.ToStatus, &h.Reason, &h.Note, &h.At)
			return h, err
		})
}
