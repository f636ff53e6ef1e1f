package repos

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitsource"
	"github.com/vegasec/vega/app/gitsource/gittree"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// errNotIngestable stops an ingest whose repository moved on (deleted, or
// already handled by another start).
var errNotIngestable = errors.New("repository is not waiting for an ingest")

// startIngest runs an ingest in the background, at most two at a time.
func (s *Service) startIngest(repoID, gitToken string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return // Recover picks it up at the next start
		}
		defer func() { <-s.sem }()
		s.ingest(s.ctx, repoID, gitToken)
	}()
}

// Recover resumes ingests a previous process left behind. Archives resume from
// their staged upload and Git URLs are cloned again (without a token, which was
// never stored); an interrupted push cannot be resumed and fails with a reason.
func (s *Service) Recover(ctx context.Context) error {
	repos, err := s.st.ListRepositoriesByIngestStatus(ctx, []string{store.IngestPending, store.IngestIngesting})
	if err != nil {
		return err
	}
	for _, r := range repos {
		switch {
		case r.SourceType == store.SourceGit || (r.SourceType == store.SourceArchive && r.PendingUploadKey != ""):
			s.log.Info("resuming interrupted ingest", "repository_id", r.ID)
			s.startIngest(r.ID, "")
		default:
			s.fail(ctx, r.ID, apperr.New(apperr.Conflict, "The ingest was interrupted by a restart; push or upload again"))
		}
	}
	return nil
}

func (s *Service) ingest(ctx context.Context, repoID, gitToken string) {
	r, err := s.st.UpdateRepository(ctx, store.System(), repoID, func(x *store.Repository) error {
		if x.IngestStatus != store.IngestPending && x.IngestStatus != store.IngestIngesting {
			return errNotIngestable
		}
		x.IngestStatus, x.IngestError, x.UpdatedAt = store.IngestIngesting, nil, s.now().UTC()
		return nil
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errNotIngestable) {
			s.log.Error("start ingest", "repository_id", repoID, "err", err)
		}
		return
	}
	log := s.log.With("repository_id", repoID, "source", r.SourceType)
	log.Info("ingest started")
	snap, err := s.buildSnapshot(ctx, r, gitToken)
	if err != nil {
		if ctx.Err() != nil { // shutting down: leave it for Recover
			log.Info("ingest interrupted by shutdown")
			return
		}
		// The staged upload goes before the failure is recorded, so whoever
		// sees "failed" also sees nothing of the upload left (and a crash in
		// between leaves an ingest whose source is gone, which fails again).
		if r.PendingUploadKey != "" {
			_ = s.blobs.Delete(context.WithoutCancel(ctx), r.PendingUploadKey)
		}
		s.fail(ctx, repoID, err)
		return
	}
	// The staged upload is in the snapshot now; it goes before the
	// repository says ready, so whoever sees ready sees no upload left. (A
	// crash in between leaves an ingest whose source is gone: Recover fails
	// it, and the upload is sent again.)
	if r.PendingUploadKey != "" {
		if err := s.blobs.Delete(ctx, r.PendingUploadKey); err != nil {
			log.Warn("delete staged upload", "err", err)
		}
	}
	if _, err := s.st.UpdateRepository(ctx, store.System(), repoID, func(x *store.Repository) error {
		x.IngestStatus, x.IngestError, x.LatestSnapshotID, x.PendingUploadKey = store.IngestReady, nil, snap.ID, ""
		x.UpdatedAt = s.now().UTC()
		return nil
	}); err != nil {
		log.Error("finish ingest", "err", err)
		return
	}
	log.Info("ingest finished", "snapshot_id", snap.ID, "files", snap.FileCount, "bytes", snap.TotalBytes)
	s.ensureProfile(ctx, r, snap)
}

// fail records why an ingest failed. Only the error's public message is kept:
// it never carries credentials or file system paths.
func (s *Service) fail(ctx context.Context, repoID string, cause error) {
	e := apperr.From(cause)
	msg := e.Message
	if e.Code == apperr.Internal {
		msg = "The ingest failed unexpectedly; try again"
	}
	s.log.Warn("ingest failed", "repository_id", repoID, "code", e.Code, "err", cause)
	_, err := s.st.UpdateRepository(context.WithoutCancel(ctx), store.System(), repoID, func(x *store.Repository) error {
		x.IngestStatus = store.IngestFailed
		x.IngestError = &store.ErrorInfo{Code: string(e.Code), Message: msg}
		if reason, ok := e.Details["reason"].(string); ok {
			x.IngestError.Details = map[string]any{"reason": reason}
		}
		x.PendingUploadKey = ""
		x.UpdatedAt = s.now().UTC()
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("record ingest failure", "repository_id", repoID, "err", err)
	}
}

// buildSnapshot fetches the source into a private directory and turns it into
// a snapshot (blobs + row). Whatever happens, the directory is removed and a
// failed attempt leaves no blobs.
func (s *Service) buildSnapshot(ctx context.Context, r *store.Repository, gitToken string) (*store.Snapshot, error) {
	work, err := s.tempDir("ingest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	snap := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r.ID, OwnerUserID: r.OwnerUserID, CreatedAt: s.now().UTC()}
	opts := ingest.SnapshotOptions{}
	switch r.SourceType {
	case store.SourceGit:
		res, err := gitsource.CloneRepo(ctx, gitsource.CloneOptions{
			URL: r.GitURL, Ref: r.GitRef, Token: gitToken,
			AllowPrivateHosts: s.opt.GitAllowPrivateHosts, Timeout: s.opt.GitCloneTimeout, MaxBytes: s.limits.MaxSourceBytes,
			Checkout: s.checkoutLimits(),
		}, src)
		if err != nil {
			return nil, err
		}
		snap.CommitSHA = res.Commit
		snap.Skipped.Symlinks += res.Stats.Symlinks
		snap.Skipped.Oversized += res.Stats.Oversized
		snap.Skipped.Special += res.Stats.Submodules
		opts.MaxFileBytes = s.limits.MaxFileBytes
	case store.SourceArchive:
		archive, cleanup, err := s.localCopy(ctx, r.PendingUploadKey, work)
		if err != nil {
			return nil, err
		}
		ext, err := ingest.ExtractArchive(ctx, archive, src, s.limits)
		cleanup()
		if err != nil {
			return nil, err
		}
		snap.Skipped = ext.Skipped
	default:
		return nil, apperr.Conflictf("This repository's source cannot be ingested again; push or upload instead")
	}
	return snap, s.saveSnapshot(ctx, src, snap, opts)
}

// saveSnapshot builds the snapshot's blobs and keeps it when it fits the
// owner's stored-bytes quota, now that its real size is known.
func (s *Service) saveSnapshot(ctx context.Context, src string, snap *store.Snapshot, opts ingest.SnapshotOptions) error {
	if err := ingest.BuildSnapshotWithOptions(ctx, src, s.blobs, snap, opts); err != nil {
		return err
	}
	if err := s.quotas.AddSnapshot(ctx, snap.OwnerUserID, snap.StoredBytes, func() error { return s.st.CreateSnapshot(ctx, snap) }); err != nil {
		bg := context.WithoutCancel(ctx)
		_ = s.blobs.Delete(bg, snap.StorageKey)
		_ = s.blobs.Delete(bg, snap.ManifestKey)
		return err
	}
	return nil
}

func (s *Service) checkoutLimits() gittree.Limits {
	return gittree.Limits{MaxEntries: s.limits.MaxEntries, MaxFileBytes: s.limits.MaxFileBytes, MaxTotalBytes: s.limits.MaxTotalBytes}
}

// localPather is implemented by blob stores that keep blobs as local files,
// which saves copying an uploaded archive before extracting it.
type localPather interface {
	LocalPath(key string) (string, error)
}

// localCopy returns a local file path holding the blob.
func (s *Service) localCopy(ctx context.Context, key, work string) (string, func(), error) {
	if key == "" {
		return "", nil, apperr.Conflictf("The uploaded archive is gone; upload it again")
	}
	if lp, ok := s.blobs.(localPather); ok {
		p, err := lp.LocalPath(key)
		return p, func() {}, err
	}
	obj, err := s.blobs.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return "", nil, apperr.Conflictf("The uploaded archive is gone; upload it again")
	}
	if err != nil {
		return "", nil, err
	}
	defer obj.Close()
	p := filepath.Join(work, "upload.archive")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", nil, err
	}
	_, err = io.Copy(f, obj)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", nil, err
	}
	return p, func() { os.Remove(p) }, nil
}
