package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var projects = table[store.Project]{name: "projects", owner: "owner_user_id",
	cols: `id, owner_user_id, name, description, created_at, updated_at, ignore_suppressions`,
	dests: func(p *store.Project) []any {
		return []any{&p.ID, &p.OwnerUserID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt, &p.IgnoreSuppressions}
	}}

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	store.StampUpdated(&p.ID, &p.CreatedAt, &p.UpdatedAt, store.PrefixProject, s.nowUTC())
	p.CreatedAt, p.UpdatedAt = ts(p.CreatedAt), ts(p.UpdatedAt)
	return projects.create(ctx, s, "create project",
		p.ID, p.OwnerUserID, p.Name, p.Description, p.CreatedAt, p.UpdatedAt, p.IgnoreSuppressions)
}

func (s *Store) GetProject(ctx context.Context, sc store.Scope, id string) (*store.Project, error) {
	return projects.get(ctx, s, "get project", sc, id)
}

func (s *Store) ListProjects(ctx context.Context, sc store.Scope, p store.Page) ([]store.Project, string, error) {
	var q query
	q.scope(sc, projects.owner)
	return projects.list(ctx, s, "list projects", &q, p)
}

func (s *Store) UpdateProject(ctx context.Context, sc store.Scope, id string, fn func(*store.Project) error) (*store.Project, error) {
	return projects.update(ctx, s, "update project", sc, id, fn,
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
		if err := deleteWhere(ctx, tx, "delete project", projects.name, projects.owner, sc, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM git_uploads WHERE project_id = $1`, id)
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
