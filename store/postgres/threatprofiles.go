package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

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
