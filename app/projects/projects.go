// Package projects manages projects and their rollups. Deleting a project
// removes everything under it, blobs included.
package projects

import (
	"context"
	"log/slog"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/quota"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// WithStats is a project plus its rollups, as the API returns it.
type WithStats struct {
	store.Project
	// HonorSuppressions (default true): in-source suppressions are recorded
	// as dismissals; false, every suppressed finding stays open
	// (docs/findings.md, "In-source suppressions").
	HonorSuppressions bool `json:"honor_suppressions"`
	store.ProjectStats
}

func withStats(p store.Project, stats store.ProjectStats) WithStats {
	return WithStats{Project: p, HonorSuppressions: !p.IgnoreSuppressions, ProjectStats: stats}
}

// Input is what a user can set on a project.
type Input struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	// HonorSuppressions turns in-source suppressions on or off; omitted,
	// it stays as it is (on for a new project).
	HonorSuppressions *bool `json:"honor_suppressions,omitempty"`
}

type Service struct {
	st     store.Store
	blobs  blob.Store
	quotas *quota.Checker
	now    func() time.Time
	log    *slog.Logger
}

func New(st store.Store, blobs blob.Store, quotas *quota.Checker, log *slog.Logger) *Service {
	return &Service{st: st, blobs: blobs, quotas: quotas, now: time.Now, log: log}
}

const maxDescription = 5000

func validate(in Input, creating bool) (name, desc string, err error) {
	problems := map[string]string{}
	if in.Name == nil {
		if creating {
			problems["name"] = "is required"
		}
	} else {
		var problem string
		if name, problem = textsafe.Name(*in.Name, textsafe.MaxName); problem != "" {
			problems["name"] = problem
		}
	}
	if in.Description != nil {
		var problem string
		if desc, problem = textsafe.Text(*in.Description, maxDescription); problem != "" {
			problems["description"] = problem
		}
	}
	if len(problems) > 0 {
		return "", "", apperr.Validation(problems)
	}
	return name, desc, nil
}

func (s *Service) Create(ctx context.Context, ownerID string, in Input) (*WithStats, error) {
	name, desc, err := validate(in, true)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: ownerID, Name: name, Description: desc, CreatedAt: now, UpdatedAt: now,
		IgnoreSuppressions: in.HonorSuppressions != nil && !*in.HonorSuppressions}
	if err := s.quotas.AddProject(ctx, ownerID, func() error { return s.st.CreateProject(ctx, p) }); err != nil {
		return nil, err
	}
	w := withStats(*p, store.ProjectStats{})
	return &w, nil
}

func (s *Service) Get(ctx context.Context, sc store.Scope, id string) (*WithStats, error) {
	p, err := s.st.GetProject(ctx, sc, id)
	if err != nil {
		return nil, apperr.NotFoundAs("Project", id, err)
	}
	stats, err := s.st.ProjectStats(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	w := withStats(*p, stats)
	return &w, nil
}

func (s *Service) List(ctx context.Context, sc store.Scope, page store.Page) ([]WithStats, string, error) {
	ps, next, err := s.st.ListProjects(ctx, sc, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]WithStats, 0, len(ps))
	for _, p := range ps {
		stats, err := s.st.ProjectStats(ctx, sc, p.ID)
		if err != nil {
			return nil, "", err
		}
		out = append(out, withStats(p, stats))
	}
	return out, next, nil
}

func (s *Service) Update(ctx context.Context, sc store.Scope, id string, in Input) (*WithStats, error) {
	name, desc, err := validate(in, false)
	if err != nil {
		return nil, err
	}
	_, err = s.st.UpdateProject(ctx, sc, id, func(p *store.Project) error {
		if in.Name != nil {
			p.Name = name
		}
		if in.Description != nil {
			p.Description = desc
		}
		if in.HonorSuppressions != nil {
			p.IgnoreSuppressions = !*in.HonorSuppressions
		}
		p.UpdatedAt = s.now().UTC()
		return nil
	})
	if err != nil {
		return nil, apperr.NotFoundAs("Project", id, err)
	}
	return s.Get(ctx, sc, id)
}

// Delete removes the project's rows, then its blobs. Blob deletion failures are
// logged, not returned: the rows are gone and `vega maintenance` sweeps orphans.
func (s *Service) Delete(ctx context.Context, sc store.Scope, id string) error {
	if _, err := s.st.GetProject(ctx, sc, id); err != nil {
		return apperr.NotFoundAs("Project", id, err)
	}
	// What the rows point at in blob storage, collected before they are gone.
	var cascade []blob.RepositoryBlobs
	for page := (store.Page{Limit: store.MaxLimit}); ; {
		repos, next, err := s.st.ListRepositories(ctx, sc, id, page)
		if err != nil {
			return err
		}
		for _, r := range repos {
			scanIDs, err := store.ScanIDs(ctx, s.st, sc, store.ScanFilter{RepositoryID: r.ID})
			if err != nil {
				return err
			}
			cascade = append(cascade, blob.RepositoryBlobs{RepositoryID: r.ID, PendingUploadKey: r.PendingUploadKey, ScanIDs: scanIDs})
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if err := s.st.DeleteProject(ctx, sc, id); err != nil {
		return apperr.NotFoundAs("Project", id, err)
	}
	for _, b := range cascade {
		if err := blob.DeleteRepository(ctx, s.blobs, b); err != nil {
			s.log.Warn("delete project blobs", "project_id", id, "repository_id", b.RepositoryID, "err", err)
		}
	}
	return nil
}
