package bolt

import (
	"context"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// CreateRepository stores r; ErrNotFound when its project does not exist.
func (s *Store) CreateRepository(ctx context.Context, r *store.Repository) error {
	stampCreated(&r.ID, &r.CreatedAt, &r.UpdatedAt, store.PrefixRepo, s.nowUTC())
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := insertUnder(tx, projects, r.ProjectID, repos, r); err != nil {
			return err
		}
		return putOwned(tx, r.OwnerUserID, ownedRepo, r.ID, 0)
	})
}

func (s *Store) GetRepository(ctx context.Context, sc store.Scope, id string) (*store.Repository, error) {
	return repos.read(ctx, s, sc, id)
}

func (s *Store) ListRepositories(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Repository, string, error) {
	return repos.page(ctx, s, sc, p, func(r *store.Repository) bool { return r.ProjectID == projectID })
}

// ListRepositoriesByIngestStatus returns, oldest first, repositories in any of statuses.
func (s *Store) ListRepositoriesByIngestStatus(ctx context.Context, statuses []string) ([]store.Repository, error) {
	out := []store.Repository{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return repos.each(tx, func(r *store.Repository) error {
			if slices.Contains(statuses, r.IngestStatus) {
				out = append(out, *r)
			}
			return nil
		})
	})
	return out, err
}

func (s *Store) UpdateRepository(ctx context.Context, sc store.Scope, id string, fn func(*store.Repository) error) (*store.Repository, error) {
	return repos.update(ctx, s, sc, id, fn, nil)
}

func (s *Store) DeleteRepository(ctx context.Context, sc store.Scope, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := repos.getIn(tx, sc, id); err != nil {
			return err
		}
		return deleteRepository(tx, id)
	})
}

// deleteRepository removes a repository and everything under it in tx.
func deleteRepository(tx *bolt.Tx, id string) error {
	repo, err := repos.get(tx, id)
	if err != nil {
		return err
	}
	if err := deleteOwned(tx, repo.OwnerUserID, ownedRepo, id); err != nil {
		return err
	}
	if _, err := snapshots.applyWhere(tx, func(sn *store.Snapshot) bool { return sn.RepositoryID == id }, func(sn *store.Snapshot) error {
		if err := snapshots.delete(tx, sn.ID); err != nil {
			return err
		}
		return deleteOwned(tx, sn.OwnerUserID, ownedSnapshot, sn.ID)
	}); err != nil {
		return err
	}
	if err := profiles.delete(tx, id); err != nil {
		return err
	}
	if err := deletePrefix(tx.Bucket(bktProfileVers), profileVersionPrefix(id)); err != nil {
		return err
	}
	if _, err := scans.applyWhere(tx, func(sc *store.Scan) bool { return sc.RepositoryID == id }, func(sc *store.Scan) error {
		return deleteScan(tx, sc.ID)
	}); err != nil {
		return err
	}
	if _, err := findings.applyWhere(tx, func(f *store.Finding) bool { return f.RepositoryID == id }, func(f *store.Finding) error {
		return deleteFinding(tx, f)
	}); err != nil {
		return err
	}
	return repos.delete(tx, id)
}

func reposOfProject(tx *bolt.Tx, projectID string) ([]*store.Repository, error) {
	return repos.where(tx, func(r *store.Repository) bool { return r.ProjectID == projectID })
}
