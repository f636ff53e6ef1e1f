// Package bolt implements store.Store on an embedded bbolt file for the local
// runtime. Values are JSON; every aggregate has its own bucket keyed by ID and
// every lookup that is not by ID has a secondary index bucket, so reads never
// scan more than the list they answer. bbolt allows one writer at a time, which
// is what makes UpdateX, ClaimNextScan and AppendEvents atomic without locks.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vegasec/vega/store"
)

// ErrLocked is returned by Open when another process holds the database file.
var ErrLocked = errors.New("bolt: database file is in use by another process")

// DefaultOpenTimeout bounds how long Open waits for the file lock.
const DefaultOpenTimeout = 2 * time.Second

// Store is the bbolt implementation of store.Store.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	timeout time.Duration
	now     func() time.Time
}

// WithOpenTimeout sets how long Open waits for another process to release the file.
func WithOpenTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithClock sets the clock used for timestamps the store fills in itself.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Open opens (creating if needed, mode 0600) the database at path. A second
// process opening the same file gets ErrLocked after the timeout instead of
// hanging forever.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{timeout: DefaultOpenTimeout, now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	if o.timeout <= 0 {
		// bbolt treats 0 as "wait forever"; never allow that.
		o.timeout = DefaultOpenTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("bolt: create directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.timeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{db: db, now: o.now}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			created := tx.Bucket(name) == nil
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
			// An index added after a file was first created is filled from
			// its primary bucket on the first open that creates it.
			if fill := backfills[string(name)]; created && fill != nil {
				if err := fill(tx); err != nil {
					return fmt.Errorf("fill %s: %w", name, err)
				}
			}
		}
		return nil
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: create buckets: %w", err)
	}
	return s, nil
}

// Ping checks the database is open and readable.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(tx *bolt.Tx) error { return nil })
}

// Close releases the file lock.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file path.
func (s *Store) Path() string { return s.db.Path() }

func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

// nowUTC is the store clock in UTC, as every stored timestamp is.
func (s *Store) nowUTC() time.Time { return s.now().UTC() }

// Snapshot calls fn with a read transaction: a consistent view of the whole
// file that writers do not block, which fn copies with WriteTo (Size bytes).
// A backup uses it while the server keeps serving (docs/backup.md).
func (s *Store) Snapshot(fn func(tx Snapshotter) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(tx) })
}

// Snapshotter is the part of a read transaction a backup needs.
type Snapshotter interface {
	Size() int64
	WriteTo(w io.Writer) (int64, error)
}
