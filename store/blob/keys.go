package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The key layout (docs/architecture.md, "Blob keys"):
//
//	snapshots/<repository>/<snapshot>.zip            source archive of a snapshot
//	snapshots/<repository>/<snapshot>.manifest.json  its manifest
//	uploads/<staged repository>.archive             an upload not ingested yet
//	scans/<scan>/<name>                             a scan's artifacts
//
// Every key names the row it belongs to, so deleting that row says what to
// delete here and the maintenance sweep can tell an orphan from a live blob.

// The top-level folders, for listing one kind of key.
const (
	SnapshotsPrefix = "snapshots/"
	UploadsPrefix   = "uploads/"
	ScansPrefix     = "scans/"
	uploadSuffix    = ".archive"
)

func SnapshotKey(repoID, snapID string) string {
	return SnapshotsPrefix + repoID + "/" + snapID + ".zip"
}
func ManifestKey(repoID, snapID string) string {
	return SnapshotsPrefix + repoID + "/" + snapID + ".manifest.json"
}
func RepositoryPrefix(repoID string) string { return SnapshotsPrefix + repoID + "/" }
func UploadKey(repoID string) string        { return UploadsPrefix + repoID + uploadSuffix }
func ArtifactKey(scanID, name string) string {
	return ScansPrefix + scanID + "/" + name
}
func ScanPrefix(scanID string) string { return ScansPrefix + scanID + "/" }

// KeyKind is what a key holds, by its top-level folder.
type KeyKind int

const (
	KeyOther    KeyKind = iota // none of the folders below
	KeySnapshot                // snapshots/: ID is the repository
	KeyUpload                  // uploads/: ID is the staged repository
	KeyScan                    // scans/: ID is the scan
)

// Key is a parsed key: what it holds and the ID of the row it belongs to.
type Key struct {
	Kind KeyKind
	ID   string
}

// ParseKey reads a key written by the builders above (or what is left of
// one after a crash). A key outside the known folders is KeyOther with no ID.
func ParseKey(key string) Key {
	switch {
	case strings.HasPrefix(key, SnapshotsPrefix):
		id, _, _ := strings.Cut(strings.TrimPrefix(key, SnapshotsPrefix), "/")
		return Key{Kind: KeySnapshot, ID: id}
	case strings.HasPrefix(key, UploadsPrefix):
		return Key{Kind: KeyUpload, ID: strings.TrimSuffix(strings.TrimPrefix(key, UploadsPrefix), uploadSuffix)}
	case strings.HasPrefix(key, ScansPrefix):
		id, _, _ := strings.Cut(strings.TrimPrefix(key, ScansPrefix), "/")
		return Key{Kind: KeyScan, ID: id}
	}
	return Key{Kind: KeyOther}
}

// IsSourceKey reports whether key holds customer source code: snapshots and
// staged uploads. On S3 these live in the source bucket, everything else
// (scan artifacts, exports) in the artifacts bucket (docs/aws.md).
func IsSourceKey(key string) bool {
	for _, p := range SourcePrefixes() {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// SourcePrefixes are the key prefixes IsSourceKey accepts.
func SourcePrefixes() []string { return []string{SnapshotsPrefix, UploadsPrefix} }

// IsSnapshotKey reports whether key is part of a snapshot. Snapshot keys are
// immutable (every ingest writes a new snapshot ID), so they may be cached.
func IsSnapshotKey(key string) bool { return strings.HasPrefix(key, SnapshotsPrefix) }

// RepositoryBlobs is what a repository's rows point at in blob storage: its
// snapshots, an upload staged for it and not ingested yet, and its scans'
// artifacts. Collect it before deleting the rows (afterwards the scan IDs
// are gone too).
type RepositoryBlobs struct {
	RepositoryID     string
	PendingUploadKey string // "" when none
	ScanIDs          []string
}

// DeleteRepository deletes everything b names. It is the one cascade for a
// deleted repository, whether the repository or its whole project was
// deleted. It runs after the rows are gone, so a cancelled request does not
// stop it halfway, and it tries every part: the failures come back joined
// for the caller to log, and `vega maintenance` sweeps what is left.
func DeleteRepository(ctx context.Context, s Store, b RepositoryBlobs) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	note := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	note("snapshots", s.DeletePrefix(ctx, RepositoryPrefix(b.RepositoryID)))
	if b.PendingUploadKey != "" {
		note("upload", s.Delete(ctx, b.PendingUploadKey))
	}
	for _, id := range b.ScanIDs {
		note("scan "+id, s.DeletePrefix(ctx, ScanPrefix(id)))
	}
	return errors.Join(errs...)
}
