package repos

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// Profile returns the repository's threat profile; one that was never made is
// reported with status "empty".
func (s *Service) Profile(ctx context.Context, sc store.Scope, repoID string) (*store.ThreatProfile, error) {
	r, err := s.Get(ctx, sc, repoID)
	if err != nil {
		return nil, err
	}
	tp, err := s.st.GetThreatProfile(ctx, sc, repoID)
	if errors.Is(err, store.ErrNotFound) {
		return &store.ThreatProfile{RepositoryID: r.ID, Status: store.ProfileEmpty, Content: emptyContent()}, nil
	}
	return tp, err
}

func emptyContent() store.ThreatProfileContent {
	return store.ThreatProfileContent{Assets: []string{}, EntryPoints: []string{}, TrustBoundaries: []string{},
		Focus: []string{}, OutOfScope: []string{}, SeverityThreshold: store.SeverityLow}
}

// PutProfile replaces the profile's content with a user's edit.
func (s *Service) PutProfile(ctx context.Context, sc store.Scope, userID, repoID string, c store.ThreatProfileContent) (*store.ThreatProfile, error) {
	r, err := s.Get(ctx, sc, repoID)
	if err != nil {
		return nil, err
	}
	if err := validateContent(&c); err != nil {
		return nil, err
	}
	return s.setProfile(ctx, sc, r, userID, store.ProfileSourceEdited, c, "edit it")
}

// setProfile makes c the content of repository r's profile, from source,
// creating the profile when r has none yet. While a generation runs the
// profile is not touched: the conflict says to retry (to do what) when it
// finishes.
func (s *Service) setProfile(ctx context.Context, sc store.Scope, r *store.Repository, userID, source string, c store.ThreatProfileContent, what string) (*store.ThreatProfile, error) {
	tp, err := s.st.GetThreatProfile(ctx, sc, r.ID)
	if errors.Is(err, store.ErrNotFound) {
		tp, err = &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: r.ID, OwnerUserID: r.OwnerUserID}, nil
	}
	if err != nil {
		return nil, err
	}
	if tp.Status == store.ProfileGenerating {
		return nil, apperr.Conflictf("The threat profile is being generated; %s when that finishes", what)
	}
	tp.Status, tp.Source, tp.Content, tp.Error = store.ProfileReady, source, c, nil
	tp.UpdatedAt, tp.UpdatedBy = s.now().UTC(), userID
	return tp, s.st.PutThreatProfile(ctx, tp)
}

// ProfileVersions lists the kept versions of the repository's profile, newest
// first: every generation result, edit and restore.
func (s *Service) ProfileVersions(ctx context.Context, sc store.Scope, repoID string) ([]store.ThreatProfileVersion, error) {
	if _, err := s.Get(ctx, sc, repoID); err != nil {
		return nil, err
	}
	return s.st.ListThreatProfileVersions(ctx, sc, repoID)
}

// RestoreProfile makes a kept version the profile's content again. The
// restore is itself a new version, so it can be undone the same way.
func (s *Service) RestoreProfile(ctx context.Context, sc store.Scope, userID, repoID, versionID string) (*store.ThreatProfile, error) {
	r, err := s.Get(ctx, sc, repoID)
	if err != nil {
		return nil, err
	}
	v, err := s.st.GetThreatProfileVersion(ctx, sc, repoID, versionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.NotFoundf("No such version of this repository's threat profile")
	}
	if err != nil {
		return nil, err
	}
	return s.setProfile(ctx, sc, r, userID, store.ProfileSourceRestored, v.Content, "restore a version")
}

const (
	maxProfileItems   = 100
	maxProfileItemLen = 500
	maxSummaryLen     = 10000
)

func validateContent(c *store.ThreatProfileContent) error {
	problems := map[string]string{}
	c.Summary = strings.TrimSpace(c.Summary)
	if utf8.RuneCountInString(c.Summary) > maxSummaryLen || !utf8.ValidString(c.Summary) {
		problems["summary"] = "must be at most 10000 characters"
	}
	lists := map[string]*[]string{"assets": &c.Assets, "entry_points": &c.EntryPoints, "trust_boundaries": &c.TrustBoundaries,
		"focus": &c.Focus, "out_of_scope": &c.OutOfScope}
	for name, l := range lists {
		clean := []string{}
		for _, item := range *l {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if utf8.RuneCountInString(item) > maxProfileItemLen || !utf8.ValidString(item) {
				problems[name] = "items must be at most 500 characters"
			}
			clean = append(clean, item)
		}
		if len(clean) > maxProfileItems {
			problems[name] = "must have at most 100 items"
		}
		*l = clean
	}
	if c.SeverityThreshold == "" {
		c.SeverityThreshold = store.SeverityLow
	}
	if store.SeverityRank(c.SeverityThreshold) < 0 {
		problems["severity_threshold"] = "must be one of critical, high, medium, low, info"
	}
	if len(problems) > 0 {
		return apperr.Validation(problems)
	}
	return nil
}

// GenerateProfile regenerates the profile in the background; the profile shows
// status "generating" until it is done.
func (s *Service) GenerateProfile(ctx context.Context, sc store.Scope, userID, repoID string) (*store.ThreatProfile, error) {
	snap, err := s.snapshot(ctx, sc, repoID, "")
	if err != nil {
		return nil, err
	}
	tp, err := s.st.GetThreatProfile(ctx, sc, repoID)
	if errors.Is(err, store.ErrNotFound) {
		tp, err = &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: repoID, OwnerUserID: snap.OwnerUserID, Content: emptyContent()}, nil
	}
	if err != nil {
		return nil, err
	}
	if tp.Status == store.ProfileGenerating {
		return tp, nil // already on its way
	}
	tp.Status, tp.Error, tp.UpdatedAt, tp.UpdatedBy = store.ProfileGenerating, nil, s.now().UTC(), userID
	if err := s.st.PutThreatProfile(ctx, tp); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.generate(s.ctx, *tp, snap, userID)
	}()
	return tp, nil
}

func (s *Service) generate(ctx context.Context, tp store.ThreatProfile, snap *store.Snapshot, by string) {
	content, err := s.profiles.Generate(ctx, snap)
	tp.UpdatedAt, tp.UpdatedBy = s.now().UTC(), by
	if err != nil {
		s.log.Warn("threat profile generation failed", "repository_id", tp.RepositoryID, "err", err)
		tp.Status = store.ProfileFailed
		tp.Error = &store.ErrorInfo{Code: string(apperr.From(err).Code), Message: "Generation failed: " + apperr.From(err).Message}
	} else {
		tp.Status, tp.Source, tp.Content, tp.Error = store.ProfileReady, store.ProfileSourceGenerated, content, nil
	}
	if err := s.st.PutThreatProfile(context.WithoutCancel(ctx), &tp); err != nil {
		s.log.Error("save threat profile", "repository_id", tp.RepositoryID, "err", err)
	}
}

// ensureProfile gives a freshly ingested repository a generated profile, so a
// user always has one to review. Edited profiles are never overwritten.
func (s *Service) ensureProfile(ctx context.Context, r *store.Repository, snap *store.Snapshot) {
	if _, err := s.st.GetThreatProfile(ctx, store.System(), r.ID); !errors.Is(err, store.ErrNotFound) {
		return
	}
	tp := store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: r.ID, OwnerUserID: r.OwnerUserID,
		Status: store.ProfileGenerating, Content: emptyContent(), UpdatedAt: s.now().UTC(), UpdatedBy: "system"}
	// Stored as generating first: the page shows it, and the LLM proxy only
	// honours a profile token while the profile is being generated.
	if err := s.st.PutThreatProfile(ctx, &tp); err != nil {
		s.log.Error("save threat profile", "repository_id", r.ID, "err", err)
		return
	}
	s.generate(ctx, tp, snap, "system")
}
