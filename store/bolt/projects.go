package bolt

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	stampCreated(&p.ID, &p.CreatedAt, &p.UpdatedAt, store.PrefixProject, s.nowUTC())
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := projects.insert(tx, p); err != nil {
			return err
		}
		return putOwned(tx, p.OwnerUserID, ownedProject, p.ID, 0)
	})
}

func (s *Store) GetProject(ctx context.Context, sc store.Scope, id string) (*store.Project, error) {
	return projects.read(ctx, s, sc, id)
}

func (s *Store) ListProjects(ctx context.Context, sc store.Scope, p store.Page) ([]store.Project, string, error) {
	return projects.page(ctx, s, sc, p, everything[store.Project])
}

func (s *Store) UpdateProject(ctx context.Context, sc store.Scope, id string, fn func(*store.Project) error) (*store.Project, error) {
	return projects.update(ctx, s, sc, id, fn, nil)
}

// DeleteProject removes the project and, through deleteRepository, every
// repository, snapshot, profile, scan, event, finding and history entry under it.
func (s *Store) DeleteProject(ctx context.Context, sc store.Scope, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		p, err := projects.getIn(tx, sc, id)
		if err != nil {
			return err
		}
		if err := deleteOwned(tx, p.OwnerUserID, ownedProject, id); err != nil {
			return err
		}
		repos, err := reposOfProject(tx, id)
		if err != nil {
			return err
		}
		for _, r := range repos {
			if err := deleteRepository(tx, r.ID); err != nil {
				return err
			}
		}
		if err := deleteWebhooksOfProject(tx, id); err != nil {
			return err
		}
		return projects.delete(tx, id)
	})
}

// ProjectStats rolls up a project: repositories, active scans, the newest
// scan's creation time and open (open or confirmed) findings by severity.
func (s *Store) ProjectStats(ctx context.Context, sc store.Scope, id string) (store.ProjectStats, error) {
	var st store.ProjectStats
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if _, err := projects.getIn(tx, sc, id); err != nil {
			return err
		}
		repos, err := reposOfProject(tx, id)
		if err != nil {
			return err
		}
		st.RepositoryCount = len(repos)
		err = scans.each(tx, func(sc *store.Scan) error {
			if sc.ProjectID != id {
				return nil
			}
			if sc.Status.Active() {
				st.ActiveScans++
			}
			if st.LastScanAt == nil || sc.CreatedAt.After(*st.LastScanAt) {
				t := sc.CreatedAt
				st.LastScanAt = &t
			}
			return nil
		})
		if err != nil {
			return err
		}
		return findings.each(tx, func(f *store.Finding) error {
			if f.ProjectID == id && (f.Status == store.FindingOpen || f.Status == store.FindingConfirmed) {
				st.OpenFindingCounts.Inc(f.Severity)
			}
			return nil
		})
	})
	return st, err
}
