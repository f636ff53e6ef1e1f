package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var profiles = table[store.ThreatProfile]{name: "threat_profiles", owner: "owner_user_id",
	cols: `id, repository_id, owner_user_id, status, source, content, error, updated_at, updated_by`,
	dests: func(x *store.ThreatProfile) []any {
		return []any{&x.ID, &x.RepositoryID, &x.OwnerUserID, &x.Status, &x.Source, jsonCol{&x.Content}, jsonCol{&x.Error}, &x.UpdatedAt, &x.UpdatedBy}
	}}

// GetThreatProfile returns the repository's profile, ErrNotFound when it has none.
func (s *Store) GetThreatProfile(ctx context.Context, sc store.Scope, repositoryID string) (*store.ThreatProfile, error) {
	var q query
	q.and("repository_id = " + q.arg(repositoryID))
	q.scope(sc, profiles.owner)
	return profiles.getWhere(ctx, s, "get threat profile", q.cond(), q.args...)
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
		err := tx.QueryRow(ctx, `INSERT INTO threat_profiles (`+profiles.cols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
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
	if err := profileVersions.insert(ctx, tx, "add threat profile version",
		store.NewID(store.PrefixProfileV), tp.RepositoryID, tp.OwnerUserID, tp.Source, toJSON(tp.Content), tp.UpdatedAt, tp.UpdatedBy); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM threat_profile_versions WHERE repository_id = $1 AND seq < (
		SELECT min(seq) FROM (SELECT seq FROM threat_profile_versions WHERE repository_id = $1 ORDER BY seq DESC LIMIT $2) AS kept)`,
		tp.RepositoryID, store.MaxProfileVersions)
	return mapErr("prune threat profile versions", err)
}

var profileVersions = table[store.ThreatProfileVersion]{name: "threat_profile_versions", owner: "owner_user_id",
	cols: `id, repository_id, owner_user_id, source, content, created_at, created_by`,
	dests: func(v *store.ThreatProfileVersion) []any {
		return []any{&v.ID, &v.RepositoryID, &v.OwnerUserID, &v.Source, jsonCol{&v.Content}, &v.CreatedAt, &v.CreatedBy}
	}}

// ListThreatProfileVersions returns the repository's kept versions, newest first.
func (s *Store) ListThreatProfileVersions(ctx context.Context, sc store.Scope, repositoryID string) ([]store.ThreatProfileVersion, error) {
	if _, err := s.GetRepository(ctx, sc, repositoryID); err != nil {
		return nil, err
	}
	return s.listProfileVersions(ctx, sc, repositoryID, "")
}

// GetThreatProfileVersion returns one kept version of the repository's profile.
func (s *Store) GetThreatProfileVersion(ctx context.Context, sc store.Scope, repositoryID, versionID string) (*store.ThreatProfileVersion, error) {
	vs, err := s.listProfileVersions(ctx, sc, repositoryID, versionID)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, store.ErrNotFound
	}
	return &vs[0], nil
}

// listProfileVersions lists the repository's versions within sc, newest
// first; only versionID when it is not empty.
func (s *Store) listProfileVersions(ctx context.Context, sc store.Scope, repositoryID, versionID string) ([]store.ThreatProfileVersion, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("repository_id = " + q.arg(repositoryID))
	if versionID != "" {
		q.and("id = " + q.arg(versionID))
	}
	q.scope(sc, profileVersions.owner)
	return collect(ctx, s.pool, "list threat profile versions",
		`SELECT `+profileVersions.cols+` FROM threat_profile_versions`+q.whereSQL()+` ORDER BY seq DESC`, q.args, profileVersions.scan)
}
