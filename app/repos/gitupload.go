package repos

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitpush"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

// GitUploadInput asks for a temporary push remote.
type GitUploadInput struct {
	ProjectID      string `json:"project_id"`
	RepositoryName string `json:"repository_name"`
}

// CreatedGitUpload carries the one-time remote URL; the token in it is not
// stored (only its hash), so this answer is the only place it appears.
type CreatedGitUpload struct {
	store.GitUpload
	RemoteURL string `json:"remote_url"`
}

// CreateGitUpload makes a one-time, expiring push remote for a new repository.
func (s *Service) CreateGitUpload(ctx context.Context, sc store.Scope, userID string, in GitUploadInput) (*CreatedGitUpload, error) {
	problems := map[string]string{}
	if in.ProjectID == "" {
		problems["project_id"] = "is required"
	}
	name, problem := textsafe.Name(in.RepositoryName, textsafe.MaxName)
	if problem != "" {
		problems["repository_name"] = problem
	}
	if len(problems) > 0 {
		return nil, apperr.Validation(problems)
	}
	p, err := s.project(ctx, sc, in.ProjectID)
	if err != nil {
		return nil, err
	}
	if err := s.quotas.RoomForRepository(ctx, p.OwnerUserID); err != nil {
		return nil, err
	}
	token := auth.RandomToken(32)
	now := s.now().UTC()
	g := store.GitUpload{ID: store.NewID(store.PrefixGitUpload), UserID: userID, ProjectID: p.ID, RepositoryName: name,
		TokenHash: auth.HashToken(token), ExpiresAt: now.Add(s.opt.GitUploadTTL), Status: store.GitUploadWaiting, CreatedAt: now}
	if err := s.st.CreateGitUpload(ctx, &g); err != nil {
		return nil, err
	}
	return &CreatedGitUpload{GitUpload: g, RemoteURL: s.opt.PublicURL + "/git/" + token + ".git"}, nil
}

// GetGitUpload reports an upload's status ("expired" once its time is up).
func (s *Service) GetGitUpload(ctx context.Context, sc store.Scope, id string) (*store.GitUpload, error) {
	g, err := s.st.GetGitUpload(ctx, sc, id)
	if err != nil {
		return nil, apperr.NotFoundAs("Git upload", id, err)
	}
	if g.Status == store.GitUploadWaiting && s.now().After(g.ExpiresAt) {
		g.Status = store.GitUploadExpired
	}
	return g, nil
}

var errNoRemote = apperr.NotFoundf("No such push remote (it may have expired or been used)")

// usableUpload finds the waiting, unexpired upload a push token belongs to.
func (s *Service) usableUpload(ctx context.Context, token string) (*store.GitUpload, error) {
	if token == "" {
		return nil, errNoRemote
	}
	g, err := s.st.GetGitUploadByTokenHash(ctx, auth.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoRemote
	}
	if err != nil {
		return nil, err
	}
	if g.Status != store.GitUploadWaiting || s.now().After(g.ExpiresAt) || g.RepositoryID != "" {
		return nil, errNoRemote
	}
	return g, nil
}

// AdvertisePush answers `GET info/refs?service=git-receive-pack` for a token.
func (s *Service) AdvertisePush(ctx context.Context, token string, w io.Writer) error {
	if _, err := s.usableUpload(ctx, token); err != nil {
		return err
	}
	work, bare, err := s.bareWork("push-adv-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	return gitpush.AdvertiseReceivePack(ctx, w, bare)
}

// bareWork makes a temporary work directory holding an empty bare repository
// (work/repo.git) for a push; the caller removes work.
func (s *Service) bareWork(prefix string) (work, bare string, err error) {
	work, err = s.tempDir(prefix)
	if err != nil {
		return "", "", err
	}
	bare = filepath.Join(work, "repo.git")
	if err := gitpush.InitBare(bare); err != nil {
		os.RemoveAll(work)
		return "", "", err
	}
	return work, bare, nil
}

// ReceivePush takes the one push a remote accepts, then makes the repository
// and its snapshot from the pushed ref. The protocol answer goes to w.
func (s *Service) ReceivePush(ctx context.Context, token string, body io.Reader, gzip bool, w io.Writer) (*store.Repository, error) {
	g, err := s.usableUpload(ctx, token)
	if err != nil {
		return nil, err
	}
	// Refuse before receiving a pack that could not be kept.
	if err := s.quotas.RoomForRepository(ctx, g.UserID); err != nil {
		return nil, err
	}
	repoID := store.NewID(store.PrefixRepo)
	// Claim the upload so a concurrent push with the same token is refused.
	if _, err := s.st.UpdateGitUpload(ctx, g.ID, func(x *store.GitUpload) error {
		if x.RepositoryID != "" || x.Status != store.GitUploadWaiting {
			return errNoRemote
		}
		x.RepositoryID = repoID
		return nil
	}); err != nil {
		return nil, err
	}
	release := func() {
		_, _ = s.st.UpdateGitUpload(context.WithoutCancel(ctx), g.ID, func(x *store.GitUpload) error {
			if x.RepositoryID == repoID {
				x.RepositoryID = ""
			}
			return nil
		})
	}
	work, bare, err := s.bareWork("push-")
	if err != nil {
		release()
		return nil, err
	}
	defer os.RemoveAll(work)
	pushed, err := gitpush.ReceivePack(ctx, body, w, bare, gitpush.ReceiveOptions{MaxBytes: s.limits.MaxSourceBytes, Gzip: gzip})
	if err != nil {
		release() // nothing was made: the remote may be pushed to again
		return nil, err
	}
	p, err := s.st.GetProject(ctx, store.System(), g.ProjectID)
	if err != nil {
		release()
		return nil, apperr.Conflictf("The project of this push remote no longer exists")
	}
	now := s.now().UTC()
	r := &store.Repository{ID: repoID, ProjectID: p.ID, OwnerUserID: p.OwnerUserID, Name: g.RepositoryName, SourceType: store.SourceGitPush,
		GitRef: pushed.Ref, IngestStatus: store.IngestIngesting, CreatedAt: now, UpdatedAt: now}
	if err := s.quotas.AddRepository(ctx, p.OwnerUserID, func() error { return s.st.CreateRepository(ctx, r) }); err != nil {
		release()
		return nil, err
	}
	if _, err := s.st.UpdateGitUpload(ctx, g.ID, func(x *store.GitUpload) error { x.Status = store.GitUploadReceived; return nil }); err != nil {
		s.log.Warn("mark git upload received", "git_upload_id", g.ID, "err", err)
	}
	snap, err := s.snapshotPush(ctx, r, bare, work, pushed.Commit)
	if err != nil {
		s.fail(ctx, r.ID, err)
		return s.st.GetRepository(ctx, store.System(), r.ID)
	}
	r, err = s.st.UpdateRepository(ctx, store.System(), r.ID, func(x *store.Repository) error {
		x.IngestStatus, x.LatestSnapshotID, x.UpdatedAt = store.IngestReady, snap.ID, s.now().UTC()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.ensureProfile(ctx, r, snap)
	return r, nil
}

func (s *Service) snapshotPush(ctx context.Context, r *store.Repository, bare, work, commit string) (*store.Snapshot, error) {
	src := filepath.Join(work, "src")
	stats, err := gitpush.Checkout(ctx, bare, commit, src, s.checkoutLimits())
	if err != nil {
		return nil, err
	}
	snap := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r.ID, OwnerUserID: r.OwnerUserID, CommitSHA: commit, CreatedAt: s.now().UTC()}
	snap.Skipped.Symlinks, snap.Skipped.Oversized, snap.Skipped.Special = stats.Symlinks, stats.Oversized, stats.Submodules
	return snap, s.saveSnapshot(ctx, src, snap, ingest.SnapshotOptions{MaxFileBytes: s.limits.MaxFileBytes})
}
