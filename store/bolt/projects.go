package bolt

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	store.Stamp(&p.ID, &p.CreatedAt, store.PrefixProject, s.nowUTC())
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktProjects)
		if b.Get([]byte(p.ID)) != nil {
			return store.ErrConflict
		}
		if err := putOwned(tx, p.OwnerUserID, ownedProject, p.ID, 0); err != nil {
			return err
		}
		return putJSON(b, []byte(p.ID), projectToRecord(p))
	})
}

// projectRecord is a stored project with the fields the API does not show.
type projectRecord struct {
	store.Project
	IgnoreSuppressions bool `json:"ignore_suppressions,omitempty"`
}

func projectToRecord(p *store.Project) *projectRecord {
	return &projectRecord{Project: *p, IgnoreSuppressions: p.IgnoreSuppressions}
}

func (r *projectRecord) project() *store.Project {
	p := r.Project
	p.IgnoreSuppressions = r.IgnoreSuppressions
	return &p
}

// getProject returns the project if sc may see it, ErrNotFound otherwise.
func getProject(tx *bolt.Tx, sc store.Scope, id string) (*store.Project, error) {
	var r projectRecord
	if err := getJSON(tx.Bucket(bktProjects), []byte(id), &r); err != nil {
		return nil, err
	}
	p := r.project()
	if !sc.Allows(p.OwnerUserID) {
		return nil, store.ErrNotFound
	}
	return p, nil
}

func (s *Store) GetProject(ctx context.Context, sc store.Scope, id string) (*store.Project, error) {
	var p *store.Project
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		p, err = getProject(tx, sc, id)
		return err
	})
	return p, err
}

func (s *Store) ListProjects(ctx context.Context, sc store.Scope, p store.Page) ([]store.Project, string, error) {
	var out []store.Project
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listDesc(tx.Bucket(bktProjects), p, decodeAs((*projectRecord).project,
			func(x *store.Project) bool { return sc.Allows(x.OwnerUserID) }))
		return err
	})
	return out, next, err
}

func (s *Store) UpdateProject(ctx context.Context, sc store.Scope, id string, fn func(*store.Project) error) (*store.Project, error) {
	var out *store.Project
	err := s.update(ctx, func(tx *bolt.Tx) error {
		p, err := getProject(tx, sc, id)
		if err != nil {
			return err
		}
		owner := p.OwnerUserID
		if err := fn(p); err != nil {
			return err
		}
		p.ID, p.OwnerUserID = id, owner
		out = p
		return putJSON(tx.Bucket(bktProjects), []byte(id), projectToRecord(p))
	})
	return out, err
}

// DeleteProject removes the project and, through deleteRepository, every
// repository, snapshot, profile, scan, event, finding and history entry under it.
func (s *Store) DeleteProject(ctx context.Context, sc store.Scope, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		p, err := getProject(tx, sc, id)
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
		return tx.Bucket(bktProjects).Delete([]byte(id))
	})
}

// ProjectStats rolls up a project: repositories, active scans, the newest
// scan's creation time and open (open or confirmed) findings by severity.
func (s *Store) ProjectStats(ctx context.Context, sc store.Scope, id string) (store.ProjectStats, error) {
	var st store.ProjectStats
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if _, err := getProject(tx, sc, id); err != nil {
			return err
		}
		repos, err := reposOfProject(tx, id)
		if err != nil {
			return err
		}
		st.RepositoryCount = len(repos)
		err = forEachScan(tx, func(sc *store.Scan) error {
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
		return forEachFinding(tx, func(f *store.Finding) error {
			if f.ProjectID == id && (f.Status == store.FindingOpen || f.Status == store.FindingConfirmed) {
				st.OpenFindingCounts.Inc(f.Severity)
			}
			return nil
		})
	})
	return st, err
}
