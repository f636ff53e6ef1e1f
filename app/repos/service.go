// Package repos manages repositories: adding them from a Git URL, an uploaded
// archive or a temporary push remote, ingesting them into immutable snapshots
// in the background, browsing snapshots, and their threat profiles.
package repos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitsource"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/profile"
	"github.com/vegasec/vega/app/quota"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

type Service struct {
	st       store.Store
	blobs    blob.Store
	opt      Options
	quotas   *quota.Checker
	log      *slog.Logger
	now      func() time.Time
	limits   ingest.Limits
	tmpRoot  string
	profiles profile.Generator
	browser  *ingest.Browser // the tree and file views

	// Background ingests are bounded; their context is the service's lifetime.
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Options configure the service; the composition root (app/server) fills
// them from the configuration.
type Options struct {
	Limits  ingest.Limits // bound every ingest (VEGA_MAX_SOURCE_BYTES, VEGA_MAX_ARCHIVE_*)
	TempDir string        // working copies of ingests, on the data disk
	// PublicURL is where users reach the API; temporary push remotes are under it.
	PublicURL    string
	GitUploadTTL time.Duration // how long a push remote accepts a push
	// GitAllowPrivateHosts lets Git URLs name private addresses (docs/limits.md).
	GitAllowPrivateHosts bool
	GitCloneTimeout      time.Duration
	Quotas               *quota.Checker
	// Profiles generates threat profiles; nil is profile.Manifest.
	Profiles profile.Generator
	Logger   *slog.Logger
}

// New builds the service; Close stops background ingests.
func New(st store.Store, blobs blob.Store, opt Options) *Service {
	ctx, cancel := context.WithCancel(context.Background())
	if opt.Profiles == nil {
		opt.Profiles = profile.Manifest{Blobs: blobs}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{st: st, blobs: blobs, opt: opt, quotas: opt.Quotas, log: opt.Logger, now: time.Now,
		limits: opt.Limits, tmpRoot: opt.TempDir, profiles: opt.Profiles,
		sem: make(chan struct{}, 2), ctx: ctx, cancel: cancel, browser: ingest.NewBrowser(blobs, ingest.DefaultBrowseEntries)}
}

// Close cancels running ingests and waits for them; an interrupted ingest is
// picked up again by Recover at the next start.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
	s.browser.Close()
}

// GitInput is the JSON body that adds a repository from a Git URL.
type GitInput struct {
	Name     string `json:"name"`
	GitURL   string `json:"git_url"`
	GitRef   string `json:"git_ref"`
	GitToken string `json:"git_token"`
}

func (s *Service) project(ctx context.Context, sc store.Scope, projectID string) (*store.Project, error) {
	p, err := s.st.GetProject(ctx, sc, projectID)
	return p, apperr.NotFoundAs("Project", projectID, err)
}

// CreateFromGit registers a repository and clones it in the background. The
// token is used for this clone only and never stored.
func (s *Service) CreateFromGit(ctx context.Context, sc store.Scope, projectID string, in GitInput) (*store.Repository, error) {
	p, err := s.project(ctx, sc, projectID)
	if err != nil {
		return nil, err
	}
	problems := map[string]string{}
	u, err := gitsource.ParseURL(in.GitURL)
	if err != nil {
		problems["git_url"] = apperr.From(err).Message
	}
	in.GitRef = strings.TrimSpace(in.GitRef)
	if len(in.GitRef) > 255 || strings.ContainsAny(in.GitRef, " \t\n~^:?*[\\") {
		problems["git_ref"] = "is not a valid branch or tag name"
	}
	name, problem := textsafe.Name(in.Name, textsafe.MaxName)
	if in.Name == "" && err == nil {
		name, problem = nameFromURL(u), ""
	}
	if problem != "" {
		problems["name"] = problem
	}
	if len(problems) > 0 {
		return nil, apperr.Validation(problems)
	}
	now := s.now().UTC()
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: p.OwnerUserID, Name: name,
		SourceType: store.SourceGit, GitURL: u, GitRef: in.GitRef, IngestStatus: store.IngestPending, CreatedAt: now, UpdatedAt: now}
	if err := s.quotas.AddRepository(ctx, p.OwnerUserID, func() error { return s.st.CreateRepository(ctx, r) }); err != nil {
		return nil, err
	}
	s.startIngest(r.ID, in.GitToken)
	return r, nil
}

func nameFromURL(u string) string {
	u = strings.TrimSuffix(strings.TrimRight(u, "/"), ".git")
	if i := strings.LastIndex(u, "/"); i >= 0 {
		u = u[i+1:]
	}
	if n, problem := textsafe.Name(u, textsafe.MaxName); problem == "" {
		return n
	}
	return "repository"
}

// uploadTarget is what an archive upload is for: a new repository in
// ProjectID, or a new snapshot of the existing RepositoryID.
type uploadTarget struct {
	ProjectID    string
	RepositoryID string
}

// beforeUpload refuses an archive upload before a byte of it is stored: an
// unknown project or repository, a repository that clones from a Git URL or
// is being ingested, or a quota the user has already reached. What may
// change meanwhile is checked again when the upload is attached.
func (s *Service) beforeUpload(ctx context.Context, sc store.Scope, t uploadTarget) error {
	if t.RepositoryID == "" {
		p, err := s.project(ctx, sc, t.ProjectID)
		if err != nil {
			return err
		}
		return s.quotas.RoomForRepository(ctx, p.OwnerUserID)
	}
	r, err := s.Get(ctx, sc, t.RepositoryID)
	if err != nil {
		return err
	}
	if err := takesArchive(r); err != nil {
		return err
	}
	_, err = s.quotas.RoomToStore(ctx, r.OwnerUserID)
	return err
}

// takesArchive refuses a new archive for a repository that cannot take one
// now. A Git repository is re-ingested by cloning it again: an archive for
// it would be stored and never used.
func takesArchive(r *store.Repository) error {
	if r.SourceType == store.SourceGit {
		return apperr.Conflictf("Repository %s is cloned from its Git URL; re-ingest it without an upload (JSON, optional git_token)", r.ID)
	}
	if ingesting(r) {
		return apperr.Conflictf("Repository %s is already being ingested", r.ID)
	}
	return nil
}

func ingesting(r *store.Repository) bool {
	return r.IngestStatus == store.IngestPending || r.IngestStatus == store.IngestIngesting
}

// stageArchive streams an uploaded archive into blob storage under a new
// repository ID, cut off at the source size cap or at what the scope's user
// may still store, whichever is smaller. The caller then calls
// createFromArchive or Reingest (or discardStaged on failure).
func (s *Service) stageArchive(ctx context.Context, sc store.Scope, body io.Reader) (repoID string, size int64, err error) {
	room, err := s.quotas.RoomToStore(ctx, sc.UserID())
	if err != nil {
		return "", 0, err
	}
	limit := min(s.limits.MaxSourceBytes, room)
	repoID = store.NewID(store.PrefixRepo)
	key := blob.UploadKey(repoID)
	size, err = s.blobs.Put(ctx, key, ingest.LimitReader(body, limit))
	if err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), key)
		var ae *apperr.Error
		if errors.As(err, &ae) {
			if limit < s.limits.MaxSourceBytes {
				return "", 0, s.quotas.Upload(ae, room)
			}
			return "", 0, ae
		}
		if errors.Is(err, blob.ErrUnavailable) || apperr.IsDiskFull(err) {
			return "", 0, apperr.From(err) // our storage failed, not the client's upload
		}
		return "", 0, apperr.BadRequestf("The upload was interrupted").Wrap(err)
	}
	if size == 0 {
		_ = s.blobs.Delete(ctx, key)
		return "", 0, apperr.Archive(ingest.ReasonCorrupt, "The uploaded archive is empty")
	}
	return repoID, size, nil
}

// discardStaged removes a staged upload that will not become a repository.
func (s *Service) discardStaged(ctx context.Context, repoID string) {
	if err := s.blobs.Delete(ctx, blob.UploadKey(repoID)); err != nil {
		s.log.Warn("discard staged upload", "repository_id", repoID, "err", err)
	}
}

// createFromArchive registers the repository of a staged upload and ingests it
// in the background. For an existing repository (re-ingest with a new archive)
// pass its ID as existingID.
func (s *Service) createFromArchive(ctx context.Context, sc store.Scope, projectID, stagedID, name string) (*store.Repository, error) {
	p, err := s.project(ctx, sc, projectID)
	if err != nil {
		s.discardStaged(ctx, stagedID)
		return nil, err
	}
	n, problem := textsafe.Name(name, textsafe.MaxName)
	if problem != "" {
		s.discardStaged(ctx, stagedID)
		return nil, apperr.Validation(map[string]string{"name": problem})
	}
	now := s.now().UTC()
	r := &store.Repository{ID: stagedID, ProjectID: p.ID, OwnerUserID: p.OwnerUserID, Name: n, SourceType: store.SourceArchive,
		IngestStatus: store.IngestPending, PendingUploadKey: blob.UploadKey(stagedID), CreatedAt: now, UpdatedAt: now}
	if err := s.quotas.AddRepository(ctx, p.OwnerUserID, func() error { return s.st.CreateRepository(ctx, r) }); err != nil {
		s.discardStaged(ctx, stagedID)
		return nil, err
	}
	s.startIngest(r.ID, "")
	return r, nil
}

func (s *Service) Get(ctx context.Context, sc store.Scope, id string) (*store.Repository, error) {
	r, err := s.st.GetRepository(ctx, sc, id)
	return r, apperr.NotFoundAs("Repository", id, err)
}

func (s *Service) List(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Repository, string, error) {
	if _, err := s.project(ctx, sc, projectID); err != nil {
		return nil, "", err
	}
	return s.st.ListRepositories(ctx, sc, projectID, p)
}

// Reingest makes a new snapshot from the repository's source: a fresh clone
// for Git (token optional, not stored), or a newly staged archive, which the
// repository then points at where it lies. A refused request leaves no
// staged upload behind.
func (s *Service) Reingest(ctx context.Context, sc store.Scope, id, gitToken, stagedID string) (*store.Repository, error) {
	r, err := s.reingest(ctx, sc, id, gitToken, stagedID)
	if err != nil && stagedID != "" {
		s.discardStaged(context.WithoutCancel(ctx), stagedID)
	}
	return r, err
}

func (s *Service) reingest(ctx context.Context, sc store.Scope, id, gitToken, stagedID string) (*store.Repository, error) {
	r, err := s.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	upload := ""
	switch {
	case stagedID != "":
		if err := takesArchive(r); err != nil {
			return nil, err
		}
		upload = blob.UploadKey(stagedID)
	case ingesting(r):
		return nil, apperr.Conflictf("Repository %s is already being ingested", id)
	case r.SourceType != store.SourceGit:
		return nil, apperr.Validation(map[string]string{"archive": "upload a new archive to re-ingest this repository"})
	}
	if _, err := s.quotas.RoomToStore(ctx, r.OwnerUserID); err != nil {
		return nil, err
	}
	r, err = s.st.UpdateRepository(ctx, sc, id, func(x *store.Repository) error {
		if ingesting(x) {
			return apperr.Conflictf("Repository %s is already being ingested", id)
		}
		x.IngestStatus, x.IngestError, x.UpdatedAt = store.IngestPending, nil, s.now().UTC()
		if upload != "" {
			x.SourceType, x.PendingUploadKey = store.SourceArchive, upload
		}
		return nil
	})
	if err != nil {
		return nil, apperr.NotFoundAs("Repository", id, err)
	}
	s.startIngest(id, gitToken)
	return r, nil
}

// Delete removes the repository's rows, then its blobs (snapshots, pending
// upload, scan artifacts). Blob failures are logged; maintenance sweeps orphans.
func (s *Service) Delete(ctx context.Context, sc store.Scope, id string) error {
	r, err := s.Get(ctx, sc, id)
	if err != nil {
		return err
	}
	scanIDs, err := store.ScanIDs(ctx, s.st, sc, store.ScanFilter{RepositoryID: id})
	if err != nil {
		return err
	}
	if err := s.st.DeleteRepository(ctx, sc, id); err != nil {
		return apperr.NotFoundAs("Repository", id, err)
	}
	s.browser.Forget(r.ID)
	if err := blob.DeleteRepository(ctx, s.blobs, blob.RepositoryBlobs{RepositoryID: r.ID, PendingUploadKey: r.PendingUploadKey, ScanIDs: scanIDs}); err != nil {
		s.log.Warn("delete repository blobs", "repository_id", r.ID, "err", err)
	}
	return nil
}

func (s *Service) ListSnapshots(ctx context.Context, sc store.Scope, id string, p store.Page) ([]store.Snapshot, string, error) {
	if _, err := s.Get(ctx, sc, id); err != nil {
		return nil, "", err
	}
	return s.st.ListSnapshots(ctx, sc, id, p)
}

// snapshot resolves the snapshot to read: the given one (which must belong to
// the repository) or the latest.
func (s *Service) snapshot(ctx context.Context, sc store.Scope, repoID, snapID string) (*store.Snapshot, error) {
	r, err := s.Get(ctx, sc, repoID)
	if err != nil {
		return nil, err
	}
	if snapID == "" {
		snapID = r.LatestSnapshotID
	}
	if snapID == "" {
		return nil, apperr.Conflictf("Repository %s has no snapshot yet (ingest status: %s)", repoID, r.IngestStatus)
	}
	snap, err := s.st.GetSnapshot(ctx, sc, snapID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && snap.RepositoryID != repoID) {
		return nil, apperr.NotFoundf("Snapshot %s not found", snapID)
	}
	return snap, err
}

// Tree lists one directory of a snapshot without unpacking it.
type Tree struct {
	Path       string             `json:"path"`
	SnapshotID string             `json:"snapshot_id"`
	Entries    []ingest.TreeEntry `json:"entries"`
}

func (s *Service) Tree(ctx context.Context, sc store.Scope, repoID, snapID, dir string) (*Tree, error) {
	snap, err := s.snapshot(ctx, sc, repoID, snapID)
	if err != nil {
		return nil, err
	}
	entries, err := s.browser.Tree(ctx, snap, dir)
	if err != nil {
		return nil, err
	}
	if entries == nil {
		entries = []ingest.TreeEntry{}
	}
	clean, _ := ingest.CleanRequestPath(dir)
	return &Tree{Path: clean, SnapshotID: snap.ID, Entries: entries}, nil
}

// MaxFileBytes caps what the file endpoint returns.
const MaxFileBytes = 1 << 20

// FileContent is one file of a snapshot.
type FileContent struct {
	ingest.File
	SnapshotID string `json:"snapshot_id"`
}

func (s *Service) File(ctx context.Context, sc store.Scope, repoID, snapID, path string) (*FileContent, error) {
	if strings.TrimSpace(path) == "" {
		return nil, apperr.Validation(map[string]string{"path": "is required"})
	}
	snap, err := s.snapshot(ctx, sc, repoID, snapID)
	if err != nil {
		return nil, err
	}
	f, err := s.browser.File(ctx, snap, path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	return &FileContent{File: *f, SnapshotID: snap.ID}, nil
}

// tempDir makes a private working directory for one ingest under the data dir.
func (s *Service) tempDir(prefix string) (string, error) {
	if err := os.MkdirAll(s.tmpRoot, 0o700); err != nil {
		return "", err
	}
	d, err := os.MkdirTemp(s.tmpRoot, prefix)
	if err != nil {
		return "", fmt.Errorf("create ingest directory: %w", err)
	}
	return d, nil
}
