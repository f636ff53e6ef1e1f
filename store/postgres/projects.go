package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

// ---- projects ----

const projectCols = `id, owner_user_id, name, description, created_at, updated_at`

func scanProject(r pgx.Row) (store.Project, error) {
	var p store.Project
	err := r.Scan(&p.ID, &p.OwnerUserID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	if p.ID == "" {
		p.ID = store.NewID(store.PrefixProject)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.nowUTC()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	p.CreatedAt, p.UpdatedAt = ts(p.CreatedAt), ts(p.UpdatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO projects (`+projectCols+`) VALUES ($1,$2,$3,$4,$5,$6)`,
		p.ID, p.OwnerUserID, p.Name, p.Description, p.CreatedAt, p.UpdatedAt)
	return mapErr("create project", err)
}

// selectOne reads one row of table by id within scope sc (suffix may add FOR UPDATE).
func selectOne[T any](ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, op, table, cols, ownerCol string, sc store.Scope, id, suffix string, scan func(pgx.Row) (T, error)) (*T, error) {
	var q query
	q.and("id = " + q.arg(id))
	q.scope(sc, ownerCol)
	v, err := scan(db.QueryRow(ctx, `SELECT `+cols+` FROM `+table+q.whereSQL()+suffix, q.args...))
	if err != nil {
		return nil, mapErr(op, err)
	}
	return &v, nil
}

// deleteOne deletes one row of table by id within scope; ErrNotFound when none matched.
func (s *Store) deleteOne(ctx context.Context, op, table, ownerCol string, sc store.Scope, id string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("id = " + q.arg(id))
	q.scope(sc, ownerCol)
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+table+q.whereSQL(), q.args...)
	if err != nil {
		return mapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *Store) GetProject(ctx context.Context, sc store.Scope, id string) (*store.Project, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get project", "projects", projectCols, "owner_user_id", sc, id, "", scanProject)
}

func (s *Store) ListProjects(ctx context.Context, sc store.Scope, p store.Page) ([]store.Project, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.scope(sc, "owner_user_id")
	return listPage(ctx, s.pool, "list projects", projectCols, "projects", &q, p, scanProject, func(x *store.Project) string { return x.ID })
}

func (s *Store) UpdateProject(ctx context.Context, sc store.Scope, id string, fn func(*store.Project) error) (*store.Project, error) {
	return updateLocked(ctx, s, "update project",
		func(ctx context.Context, tx pgx.Tx) (*store.Project, error) {
			return selectOne(ctx, tx, "update project", "projects", projectCols, "owner_user_id", sc, id, " FOR UPDATE", scanProject)
		}, fn,
		func(old, p *store.Project) { p.ID, p.OwnerUserID = old.ID, old.OwnerUserID },
		func(ctx context.Context, tx pgx.Tx, p *store.Project) error {
			p.CreatedAt, p.UpdatedAt = ts(p.CreatedAt), ts(p.UpdatedAt)
			_, err := tx.Exec(ctx, `UPDATE projects SET name=$2, description=$3, created_at=$4, updated_at=$5 WHERE id=$1`,
				p.ID, p.Name, p.Description, p.CreatedAt, p.UpdatedAt)
			return mapErr("update project", err)
		})
}

// DeleteProject deletes the project; foreign keys cascade to repositories and
// everything under them. Git uploads carry no foreign key (see the schema) and
// are removed here in the same transaction.
func (s *Store) DeleteProject(ctx context.Context, sc store.Scope, id string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.inTx(ctx, "delete project", func(tx pgx.Tx) error {
		var q query
		q.and("id = " + q.arg(id))
		q.scope(sc, "owner_user_id")
		tag, err := tx.Exec(ctx, `DELETE FROM projects`+q.whereSQL(), q.args...)
		if err != nil {
			return mapErr("delete project", err)
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM git_uploads WHERE project_id = $1`, id)
		return mapErr("delete project uploads", err)
	})
}

// ProjectStats rolls up a project in one round trip: repositories, active
// scans, the newest scan's creation time and open (open or confirmed)
// findings by severity.
func (s *Store) ProjectStats(ctx context.Context, sc store.Scope, id string) (store.ProjectStats, error) {
	var st store.ProjectStats
	if _, err := s.GetProject(ctx, sc, id); err != nil {
		return st, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var counts []byte
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM repositories WHERE project_id = $1),
		(SELECT count(*) FROM scans WHERE project_id = $1 AND status = ANY($2)),
		(SELECT max(created_at) FROM scans WHERE project_id = $1),
		(SELECT coalesce(jsonb_object_agg(severity, n), '{}') FROM
			(SELECT severity, count(*) AS n FROM findings
			 WHERE project_id = $1 AND status IN ('open', 'confirmed') GROUP BY severity) f)`,
		id, store.ActiveScanStatuses).Scan(&st.RepositoryCount, &st.ActiveScans, &st.LastScanAt, &counts)
	if err != nil {
		return st, mapErr("project stats", err)
	}
	st.OpenFindingCounts, err = severityCounts(counts)
	return st, err
}

// severityCounts reads a {"severity": n} object into SeverityCounts; unknown
// severities are ignored, as SeverityCounts.Inc does.
func severityCounts(b []byte) (store.SeverityCounts, error) {
	var c store.SeverityCounts
	var m map[string]int
	if err := fromJSON(b, &m); err != nil {
		return c, fmt.Errorf("postgres: decode severity counts: %w", err)
	}
	c.Critical, c.High, c.Medium = m[store.SeverityCritical], m[store.SeverityHigh], m[store.SeverityMedium]
	c.Low, c.Info = m[store.SeverityLow], m[store.SeverityInfo]
	return c, nil
}

// ---- repositories ----

const repoCols = `id, project_id, owner_user_id, name, source_type, git_url, git_ref, ingest_status,
	ingest_error, latest_snapshot_id, pending_upload_key, created_at, updated_at`

func scanRepo(r pgx.Row) (store.Repository, error) {
	var x store.Repository
	var ierr []byte
	if err := r.Scan(&x.ID, &x.ProjectID, &x.OwnerUserID, &x.Name, &x.SourceType, &x.GitURL, &x.GitRef,
		&x.IngestStatus, &ierr, &x.LatestSnapshotID, &x.PendingUploadKey, &x.CreatedAt, &x.UpdatedAt); err != nil {
		return x, err
	}
	return x, fromJSON(ierr, &x.IngestError)
}

// CreateRepository stores r; ErrNotFound when its project does not exist.
func (s *Store) CreateRepository(ctx context.Context, r *store.Repository) error {
	if r.ID == "" {
		r.ID = store.NewID(store.PrefixRepo)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.nowUTC()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.CreatedAt, r.UpdatedAt = ts(r.CreatedAt), ts(r.UpdatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO repositories (`+repoCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		r.ID, r.ProjectID, r.OwnerUserID, r.Name, r.SourceType, r.GitURL, r.GitRef, r.IngestStatus,
		toJSON(r.IngestError), r.LatestSnapshotID, r.PendingUploadKey, r.CreatedAt, r.UpdatedAt)
	return mapErr("create repository", err)
}

func (s *Store) GetRepository(ctx context.Context, sc store.Scope, id string) (*store.Repository, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get repository", "repositories", repoCols, "owner_user_id", sc, id, "", scanRepo)
}

func (s *Store) ListRepositories(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Repository, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("project_id = " + q.arg(projectID))
	q.scope(sc, "owner_user_id")
	return listPage(ctx, s.pool, "list repositories", repoCols, "repositories", &q, p, scanRepo, func(x *store.Repository) string { return x.ID })
}

// ListRepositoriesByIngestStatus returns, oldest first, repositories in any of statuses.
func (s *Store) ListRepositoriesByIngestStatus(ctx context.Context, statuses []string) ([]store.Repository, error) {
	if len(statuses) == 0 {
		return []store.Repository{}, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list repositories by ingest status",
		`SELECT `+repoCols+` FROM repositories WHERE ingest_status = ANY($1) ORDER BY id`, []any{statuses}, scanRepo)
}

func (s *Store) UpdateRepository(ctx context.Context, sc store.Scope, id string, fn func(*store.Repository) error) (*store.Repository, error) {
	return updateLocked(ctx, s, "update repository",
		func(ctx context.Context, tx pgx.Tx) (*store.Repository, error) {
			return selectOne(ctx, tx, "update repository", "repositories", repoCols, "owner_user_id", sc, id, " FOR UPDATE", scanRepo)
		}, fn,
		// Identity and ownership are not the callback's to change.
		func(old, r *store.Repository) {
			r.ID, r.OwnerUserID, r.ProjectID = old.ID, old.OwnerUserID, old.ProjectID
		},
		func(ctx context.Context, tx pgx.Tx, r *store.Repository) error {
			r.CreatedAt, r.UpdatedAt = ts(r.CreatedAt), ts(r.UpdatedAt)
			_, err := tx.Exec(ctx, `UPDATE repositories SET name=$2, source_type=$3, git_url=$4, git_ref=$5,
				ingest_status=$6, ingest_error=$7, latest_snapshot_id=$8, pending_upload_key=$9,
				created_at=$10, updated_at=$11 WHERE id=$1`,
				r.ID, r.Name, r.SourceType, r.GitURL, r.GitRef, r.IngestStatus, toJSON(r.IngestError),
				r.LatestSnapshotID, r.PendingUploadKey, r.CreatedAt, r.UpdatedAt)
			return mapErr("update repository", err)
		})
}

// DeleteRepository deletes the repository; foreign keys cascade to its
// snapshots, profile, scans (with events, links and runner jobs) and findings
// (with history).
func (s *Store) DeleteRepository(ctx context.Context, sc store.Scope, id string) error {
	return s.deleteOne(ctx, "delete repository", "repositories", "owner_user_id", sc, id)
}

// ---- snapshots ----

const snapshotCols = `id, repository_id, owner_user_id, storage_key, manifest_key, commit_sha, file_count,
	total_bytes, stored_bytes, languages, skipped, content_sha256, created_at`

func scanSnapshot(r pgx.Row) (store.Snapshot, error) {
	var x store.Snapshot
	var langs, skipped []byte
	if err := r.Scan(&x.ID, &x.RepositoryID, &x.OwnerUserID, &x.StorageKey, &x.ManifestKey, &x.CommitSHA,
		&x.FileCount, &x.TotalBytes, &x.StoredBytes, &langs, &skipped, &x.ContentSHA256, &x.CreatedAt); err != nil {
		return x, err
	}
	if err := fromJSON(langs, &x.Languages); err != nil {
		return x, err
	}
	return x, fromJSON(skipped, &x.Skipped)
}

// CreateSnapshot stores sn; ErrNotFound when its repository does not exist.
func (s *Store) CreateSnapshot(ctx context.Context, sn *store.Snapshot) error {
	if sn.ID == "" {
		sn.ID = store.NewID(store.PrefixSnapshot)
	}
	if sn.CreatedAt.IsZero() {
		sn.CreatedAt = s.nowUTC()
	}
	sn.CreatedAt = ts(sn.CreatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO snapshots (`+snapshotCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		sn.ID, sn.RepositoryID, sn.OwnerUserID, sn.StorageKey, sn.ManifestKey, sn.CommitSHA, sn.FileCount,
		sn.TotalBytes, sn.StoredBytes, toJSON(sn.Languages), toJSON(sn.Skipped), sn.ContentSHA256, sn.CreatedAt)
	return mapErr("create snapshot", err)
}

func (s *Store) GetSnapshot(ctx context.Context, sc store.Scope, id string) (*store.Snapshot, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get snapshot", "snapshots", snapshotCols, "owner_user_id", sc, id, "", scanSnapshot)
}

func (s *Store) ListSnapshots(ctx context.Context, sc store.Scope, repositoryID string, p store.Page) ([]store.Snapshot, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("repository_id = " + q.arg(repositoryID))
	q.scope(sc, "owner_user_id")
	return listPage(ctx, s.pool, "list snapshots", snapshotCols, "snapshots", &q, p, scanSnapshot, func(x *store.Snapshot) string { return x.ID })
}

// ---- threat profiles ----

const profileCols = `id, repository_id, owner_user_id, status, source, content, error, updated_at, updated_by`

func scanProfile(r pgx.Row) (store.ThreatProfile, error) {
	var x store.ThreatProfile
	var content, perr []byte
	if err := r.Scan(&x.ID, &x.RepositoryID, &x.OwnerUserID, &x.Status, &x.Source, &content, &perr, &x.UpdatedAt, &x.UpdatedBy); err != nil {
		return x, err
	}
	if err := fromJSON(content, &x.Content); err != nil {
		return x, err
	}
	return x, fromJSON(perr, &x.Error)
}

// GetThreatProfile returns the repository's profile, ErrNotFound when it has none.
func (s *Store) GetThreatProfile(ctx context.Context, sc store.Scope, repositoryID string) (*store.ThreatProfile, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("repository_id = " + q.arg(repositoryID))
	q.scope(sc, "owner_user_id")
	x, err := scanProfile(s.pool.QueryRow(ctx, `SELECT `+profileCols+` FROM threat_profiles`+q.whereSQL(), q.args...))
	if err != nil {
		return nil, mapErr("get threat profile", err)
	}
	return &x, nil
}

// PutThreatProfile creates or replaces the repository's profile in one
// upsert. The profile keeps its first ID across replacements, so tp.ID is set
// to the stored one. ErrNotFound when the repository does not exist.
func (s *Store) PutThreatProfile(ctx context.Context, tp *store.ThreatProfile) error {
	if tp.UpdatedAt.IsZero() {
		tp.UpdatedAt = s.nowUTC()
	}
	tp.UpdatedAt = ts(tp.UpdatedAt)
	id := tp.ID
	if id == "" {
		id = store.NewID(store.PrefixProfile)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	err := s.pool.QueryRow(ctx, `INSERT INTO threat_profiles (`+profileCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		ON CONFLICT (repository_id) DO UPDATE SET owner_user_id = EXCLUDED.owner_user_id,
			status = EXCLUDED.status, source = EXCLUDED.source, content = EXCLUDED.content,
			error = EXCLUDED.error, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
		RETURNING id`,
		id, tp.RepositoryID, tp.OwnerUserID, tp.Status, tp.Source, toJSON(tp.Content), toJSON(tp.Error),
		tp.UpdatedAt, tp.UpdatedBy).Scan(&tp.ID)
	return mapErr("put threat profile", err)
}

// ---- quotas ----

// OwnedTotals answers from the owner indexes of projects, repositories and
// snapshots (migrations/0003_owned_totals.sql): index-only scans of one
// user's entries.
func (s *Store) OwnedTotals(ctx context.Context, userID string) (store.OwnedTotals, error) {
	var out store.OwnedTotals
	if userID == "" {
		return out, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM projects WHERE owner_user_id = $1),
		(SELECT count(*) FROM repositories WHERE owner_user_id = $1),
		(SELECT coalesce(sum(stored_bytes), 0)::bigint FROM snapshots WHERE owner_user_id = $1)`, userID).
		Scan(&out.Projects, &out.Repositories, &out.StoredBytes)
	return out, mapErr("owned totals", err)
}
