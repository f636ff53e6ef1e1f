package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const projectCols = `id, owner_user_id, name, description, created_at, updated_at, ignore_suppressions`

func scanProject(r pgx.Row) (store.Project, error) {
	var p store.Project
	err := r.Scan(&p.ID, &p.OwnerUserID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt, &p.IgnoreSuppressions)
	return p, err
}

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	store.Stamp(&p.ID, &p.CreatedAt, store.PrefixProject, s.nowUTC())
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	p.CreatedAt, p.UpdatedAt = ts(p.CreatedAt), ts(p.UpdatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO projects (`+projectCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		p.ID, p.OwnerUserID, p.Name, p.Description, p.CreatedAt, p.UpdatedAt, p.IgnoreSuppressions)
	return mapErr("create project", err)
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
			_, err := tx.Exec(ctx, `UPDATE projects SET name=$2, description=$3, created_at=$4, updated_at=$5, ignore_suppressions=$6 WHERE id=$1`,
				p.ID, p.Name, p.Description, p.CreatedAt, p.UpdatedAt, p.IgnoreSuppressions)
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
