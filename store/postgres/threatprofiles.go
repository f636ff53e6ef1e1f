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
	return s.inTx(ctx, "put threat profile", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO threat_profiles (`+profileCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		ON CONFLICT (repository_id) DO UPDATE SET owner_user_id = EXCLUDED.owner_user_id,
			status = EXCLUDED.status, source = EXCLUDED.source, content = EXCLUDED.content,
			error = EXCLUDED.error, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
		RETURNING id`,
			id, tp.RepositoryID, tp.OwnerUserID, tp.Status, tp.Source, toJSON(tp.Content), toJSON(tp.Error),
			tp.UpdatedAt, tp.UpdatedBy).Scan(&tp.ID)
		if err != nil || tp.Status != store.ProfileReady {
			return mapErr("put threat profile", err)
		}
		return addProfileVersion(ctx, tx, tp)
	})
}

// addProfileVersion keeps tp's content as a version and drops the oldest
// beyond store.MaxProfileVersions. The upsert before it holds the profile's
// row lock, so two writers of one repository's versions take turns.
func addProfileVersion(ctx context.Context, tx pgx.Tx, tp *store.ThreatProfile) error {
	if _, err := tx.Exec(ctx, `INSERT INTO threat_profile_versions (id, repository_id, owner_user_id, source, content, created_at, created_by)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		store.NewID(store.PrefixProfileV), tp.RepositoryID, tp.OwnerUserID, tp.Source, toJSON(tp.Content), tp.UpdatedAt, tp.UpdatedBy); err != nil {
		return mapErr("add threat profile version", err)
	}
	_, err := tx.Exec(ctx, `DELETE FROM threat_profile_versions WHERE repository_id = $1 AND seq < (
		SELECT min(seq) FROM (SELECT seq FROM threat_profile_versions WHERE repository_id = $1 ORDER BY seq DESC LIMIT $2) AS kept)`,
		tp.RepositoryID, store.MaxProfileVersions)
	return mapErr("prune threat profile versions", err)
}

const versionCols = `id, repository_id, owner_user_id, source, content, created_at, created_by`

// ListThreatProfileVersions returns the repository's kept versions, newest first.
func (s *Store) ListThreatProfileVersions(ctx context.Context, sc store.Scope, repositoryID string) ([]store.ThreatProfileVersion, error) {
	if _, err := s.GetRepository(ctx, sc, repositoryID); err != nil {
		return nil, err
	}
	return s.profileVersions(ctx, sc, repositoryID, "")
}

// GetThreatProfileVersion returns one kept version of the repository's profile.
func (s *Store) GetThreatProfileVersion(ctx context.Context, sc store.Scope, repositoryID, versionID string) (*store.ThreatProfileVersion, error) {
	vs, err := s.profileVersions(ctx, sc, repositoryID, versionID)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, store.ErrNotFound
	}
	return &vs[0], nil
}

func (s *Store) profileVersions(ctx context.Context, sc store.Scope, repositoryID, versionID string) ([]store.ThreatProfileVersion, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("repository_id = " + q.arg(repositoryID))
	if versionID != "" {
		q.and("id = " + q.arg(versionID))
	}
	q.scope(sc, "owner_user_id")
	rows, err := s.pool.Query(ctx, `SELECT `+versionCols+` FROM threat_profile_versions`+q.whereSQL()+` ORDER BY seq DESC`, q.args...)
	if err != nil {
		return nil, mapErr("list threat profile versions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ThreatProfileVersion, error) {
		var v store.ThreatProfileVersion
		var content []byte
		if err := r.Scan(&v.ID, &v.RepositoryID, &v.OwnerUserID, &v.Source, &content, &v.CreatedAt, &v.CreatedBy); err != nil {
			return v, err
		}
		return v, fromJSON(content, &v.Content)
	})
	if err != nil {
		return nil, mapErr("list threat profile versions", err)
	}
	return out, nil
}
