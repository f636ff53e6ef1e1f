// Package blob stores immutable files (snapshots, artifacts, pending uploads)
// under slash-separated keys. The local directory implementation serves the
// double-clicked binary; S3 serves AWS with the same keys.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("blob: not found")

// ErrUnavailable wraps failures of the storage service itself (network,
// throttling that outlasted the retries, permissions, a missing bucket). The
// API answers them 503 `unavailable` and never shows their text, which can
// name buckets and ARNs; the log has it.
var ErrUnavailable = errors.New("blob: storage unavailable")

// Object is an open blob that supports random access, so a single entry of a
// snapshot zip can be read without fetching or unpacking the whole archive.
type Object interface {
	io.ReaderAt
	io.ReadCloser
	Size() int64
}

type Store interface {
	// Put stores r under key, replacing any previous value, and returns its size.
	// The write is atomic: readers see the old value or the whole new one.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open opens the blob for reading. ErrNotFound when absent.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes one key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every key under prefix (which must end in "/").
	DeletePrefix(ctx context.Context, prefix string) error
	// List returns the keys under prefix.
	List(ctx context.Context, prefix string) ([]string, error)
	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error
}

// ValidKey rejects keys that could escape the store's root or are ambiguous.
func ValidKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.ContainsRune(key, 0) {
		return fmt.Errorf("blob: invalid key %q", key)
	}
	if path.Clean(key) != strings.TrimSuffix(key, "/") || strings.HasPrefix(key, "../") || key == ".." {
		return fmt.Errorf("blob: invalid key %q", key)
	}
	return nil
}
