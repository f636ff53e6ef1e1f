package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// CreateRepository stores r; ErrNotFound when its project does not exist.
func (s *Store) CreateRepository(ctx context.Context, r *store.Repository) error {
	store.Stamp(&r.ID, &r.CreatedAt, store.PrefixRepo, s.nowUTC())
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getProject(tx, store.System(), r.ProjectID); err != nil {
			return fmt.Errorf("project %q: %w", r.ProjectID, err)
		}
		b := tx.Bucket(bktRepos)
		if b.Get([]byte(r.ID)) != nil {
			return store.ErrConflict
		}
		if err := putOwned(tx, r.OwnerUserID, ownedRepo, r.ID, 0); err != nil {
			return err
		}
		return putJSON(b, []byte(r.ID), repoToRecord(r))
	})
}

func getRepository(tx *bolt.Tx, sc store.Scope, id string) (*store.Repository, error) {
	var r repoRecord
	if err := getJSON(tx.Bucket(bktRepos), []byte(id), &r); err != nil {
		return nil, err
	}
	if !sc.Allows(r.OwnerUserID) {
		return nil, store.ErrNotFound
	}
	return r.repo(), nil
}

func (s *Store) GetRepository(ctx context.Context, sc store.Scope, id string) (*store.Repository, error) {
	var r *store.Repository
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		r, err = getRepository(tx, sc, id)
		return err
	})
	return r, err
}

func (s *Store) ListRepositories(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Repository, string, error) {
	var out []store.Repository
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listDesc(tx.Bucket(bktRepos), p, decodeAs((*repoRecord).repo,
			func(r *store.Repository) bool { return r.ProjectID == projectID && sc.Allows(r.OwnerUserID) }))
		return err
	})
	return out, next, err
}

// ListRepositoriesByIngestStatus returns, oldest first, repositories in any of statuses.
func (s *Store) ListRepositoriesByIngestStatus(ctx context.Context, statuses []string) ([]store.Repository, error) {
	out := []store.Repository{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return forEachRepo(tx, func(r *store.Repository) error {
			if slices.Contains(statuses, r.IngestStatus) {
				out = append(out, *r)
			}
			return nil
		})
	})
	return out, err
}

func (s *Store) UpdateRepository(ctx context.Context, sc store.Scope, id string, fn func(*store.Repository) error) (*store.Repository, error) {
	var out *store.Repository
	err := s.update(ctx, func(tx *bolt.Tx) error {
		r, err := getRepository(tx, sc, id)
		if err != nil {
			return err
		}
		owner, project := r.OwnerUserID, r.ProjectID
		if err := fn(r); err != nil {
			return err
		}
		// Identity and ownership are not the callback's to change.
		r.ID, r.OwnerUserID, r.ProjectID = id, owner, project
		out = r
		return putJSON(tx.Bucket(bktRepos), []byte(id), repoToRecord(r))
	})
	return out, err
}

func (s *Store) DeleteRepository(ctx context.Context, sc store.Scope, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getRepository(tx, sc, id); err != nil {
			return err
		}
		return deleteRepository(tx, id)
	})
}

// deleteRepository removes a repository and everything under it in tx.
func deleteRepository(tx *bolt.Tx, id string) error {
	repo, err := getRepository(tx, store.System(), id)
	if err != nil {
		return err
	}
	if err := deleteOwned(tx, repo.OwnerUserID, ownedRepo, id); err != nil {
		return err
	}
	snaps := tx.Bucket(bktSnapshots)
	var gone []snapshotRecord
	if err := snaps.ForEach(func(k, v []byte) error {
		var sn snapshotRecord
		if err := json.Unmarshal(v, &sn); err != nil {
			return err
		}
		if sn.RepositoryID == id {
			gone = append(gone, sn)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, sn := range gone {
		if err := snaps.Delete([]byte(sn.ID)); err != nil {
			return err
		}
		if err := deleteOwned(tx, sn.OwnerUserID, ownedSnapshot, sn.ID); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bktProfiles).Delete([]byte(id)); err != nil {
		return err
	}
	if err := deletePrefix(tx.Bucket(bktProfileVers), profileVersionPrefix(id)); err != nil {
		return err
	}
	var scanIDs []string
	if err := forEachScan(tx, func(sc *store.Scan) error {
		if sc.RepositoryID == id {
			scanIDs = append(scanIDs, sc.ID)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, sid := range scanIDs {
		if err := deleteScan(tx, sid); err != nil {
			return err
		}
	}
	var findings []*store.Finding
	if err := forEachFinding(tx, func(f *store.Finding) error {
		if f.RepositoryID == id {
			findings = append(findings, f)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, f := range findings {
		if err := deleteFinding(tx, f); err != nil {
			return err
		}
	}
	return tx.Bucket(bktRepos).Delete([]byte(id))
}

func forEachRepo(tx *bolt.Tx, fn func(*store.Repository) error) error {
	return eachJSON(tx.Bucket(bktRepos), "repository", func(r *repoRecord) error {
		return fn(r.repo())
	})
}

func reposOfProject(tx *bolt.Tx, projectID string) ([]*store.Repository, error) {
	var out []*store.Repository
	err := forEachRepo(tx, func(r *store.Repository) error {
		if r.ProjectID == projectID {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
