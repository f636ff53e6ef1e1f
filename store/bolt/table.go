package bolt

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// table is one primary bucket of JSON records R keyed by ID and read and
// written as the store type T. It holds the get, put, list, walk and
// read-modify-write every bucket needs, so a bucket file keeps only its own
// rules (indexes, parents, what an update may change).
type table[R, T any] struct {
	recordCodec[R, T]
	bucket []byte
	what   string            // the record kind, named in decode errors
	key    func(*T) string   // the primary key, usually the ID
	owner  func(*T) string   // the user a store.Scope checks; nil: only System() sees the kind
	fixed  func(old, cur *T) // puts back, after an update callback, what it may not change
}

// newTable checks R against T (newRecordCodec) and describes the bucket.
func newTable[R, T any](bucket []byte, what string, key, owner func(*T) string, fixed func(old, cur *T)) table[R, T] {
	return table[R, T]{recordCodec: newRecordCodec[R, T](), bucket: bucket, what: what, key: key, owner: owner, fixed: fixed}
}

// get reads the record under id; ErrNotFound when there is none.
func (t table[R, T]) get(tx *bolt.Tx, id string) (*T, error) {
	return getRecord(tx, t.bucket, id, t.fromRecord)
}

// visible reports whether sc may see v.
func (t table[R, T]) visible(sc store.Scope, v *T) bool {
	if t.owner == nil {
		return sc.IsSystem()
	}
	return sc.Allows(t.owner(v))
}

// getIn is get as sc sees it: another user's object is ErrNotFound too.
func (t table[R, T]) getIn(tx *bolt.Tx, sc store.Scope, id string) (*T, error) {
	v, err := t.get(tx, id)
	if err != nil {
		return nil, err
	}
	if !t.visible(sc, v) {
		return nil, store.ErrNotFound
	}
	return v, nil
}

// visibleIn is nil when sc sees the record under id, ErrNotFound otherwise.
func (t table[R, T]) visibleIn(tx *bolt.Tx, sc store.Scope, id string) error {
	_, err := t.getIn(tx, sc, id)
	return err
}

// has reports whether a record is stored under id.
func (t table[R, T]) has(tx *bolt.Tx, id string) bool {
	return tx.Bucket(t.bucket).Get([]byte(id)) != nil
}

// put writes v under its key, replacing what is there.
func (t table[R, T]) put(tx *bolt.Tx, v *T) error {
	return putJSON(tx.Bucket(t.bucket), []byte(t.key(v)), t.toRecord(v))
}

// insert writes a new v; ErrConflict when its key is taken.
func (t table[R, T]) insert(tx *bolt.Tx, v *T) error {
	if t.has(tx, t.key(v)) {
		return store.ErrConflict
	}
	return t.put(tx, v)
}

func (t table[R, T]) delete(tx *bolt.Tx, id string) error {
	return tx.Bucket(t.bucket).Delete([]byte(id))
}

// each calls fn with every record (fn must not write to the bucket).
func (t table[R, T]) each(tx *bolt.Tx, fn func(*T) error) error {
	return eachJSON(tx.Bucket(t.bucket), t.what, func(r *R) error { return fn(t.fromRecord(r)) })
}

// where collects the records keep accepts, for callers that change them
// afterwards (bbolt forbids writes during a walk).
func (t table[R, T]) where(tx *bolt.Tx, keep func(*T) bool) ([]*T, error) {
	var out []*T
	err := t.each(tx, func(v *T) error {
		if keep(v) {
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// applyWhere collects the records match accepts, then calls fn with each:
// after the walk, as bbolt forbids writes during one. It returns how many
// there were.
func (t table[R, T]) applyWhere(tx *bolt.Tx, match func(*T) bool, fn func(*T) error) (int, error) {
	found, err := t.where(tx, match)
	if err != nil {
		return 0, err
	}
	for _, v := range found {
		if err := fn(v); err != nil {
			return 0, err
		}
	}
	return len(found), nil
}

// page returns one page, newest first, of the records sc sees that keep accepts.
func (t table[R, T]) page(ctx context.Context, s *Store, sc store.Scope, p store.Page, keep func(*T) bool) ([]T, string, error) {
	var out []T
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listDesc(tx.Bucket(t.bucket), p, decodeAs(t.fromRecord,
			func(v *T) bool { return t.visible(sc, v) && keep(v) }))
		return err
	})
	return out, next, err
}

// read is getIn in its own read transaction.
func (t table[R, T]) read(ctx context.Context, s *Store, sc store.Scope, id string) (*T, error) {
	return valueIn(ctx, s.view, func(tx *bolt.Tx) (*T, error) { return t.getIn(tx, sc, id) })
}

// updateTx reads id as sc sees it, lets fn change a copy, restores what
// t.fixed keeps and saves the result with save (old is the stored version,
// for keeping indexes in step; nil save is put).
func (t table[R, T]) updateTx(tx *bolt.Tx, sc store.Scope, id string, fn func(*T) error, save func(tx *bolt.Tx, old, cur *T) error) (*T, error) {
	old, err := t.getIn(tx, sc, id)
	if err != nil {
		return nil, err
	}
	cur := *old
	if err := fn(&cur); err != nil {
		return nil, err
	}
	if t.fixed != nil {
		t.fixed(old, &cur)
	}
	if save == nil {
		err = t.put(tx, &cur)
	} else {
		err = save(tx, old, &cur)
	}
	if err != nil {
		return nil, err
	}
	return &cur, nil
}

// update is updateTx in its own write transaction.
func (t table[R, T]) update(ctx context.Context, s *Store, sc store.Scope, id string, fn func(*T) error, save func(tx *bolt.Tx, old, cur *T) error) (*T, error) {
	return valueIn(ctx, s.update, func(tx *bolt.Tx) (*T, error) { return t.updateTx(tx, sc, id, fn, save) })
}

// valueIn runs fn in a transaction of run (s.view or s.update) and returns
// its answer.
func valueIn[V any](ctx context.Context, run func(context.Context, func(*bolt.Tx) error) error, fn func(tx *bolt.Tx) (V, error)) (V, error) {
	var out V
	err := run(ctx, func(tx *bolt.Tx) (err error) {
		out, err = fn(tx)
		return err
	})
	return out, err
}

// everything is a keep func for lists that filter on scope alone.
func everything[T any](*T) bool { return true }

// stampCreated fills a new object's ID and CreatedAt (store.Stamp) and, when
// unset, UpdatedAt to CreatedAt: what every Create of an updatable kind does.
func stampCreated(id *string, created, updated *time.Time, prefix string, now time.Time) {
	store.Stamp(id, created, prefix, now)
	if updated.IsZero() {
		*updated = *created
	}
}

// insertUnder inserts v into t once its parent, id in parent, exists.
func insertUnder[PR, PT, R, T any](tx *bolt.Tx, parent table[PR, PT], id string, t table[R, T], v *T) error {
	if err := parentExists(tx, parent, id); err != nil {
		return err
	}
	return t.insert(tx, v)
}

// parentExists is ErrNotFound, naming the parent, when no id is stored in
// parent: a child is only created under a parent that exists.
func parentExists[R, T any](tx *bolt.Tx, parent table[R, T], id string) error {
	if !parent.has(tx, id) {
		return fmt.Errorf("%s %q: %w", parent.what, id, store.ErrNotFound)
	}
	return nil
}

// createIndexed is insertIndexed in its own write transaction, for a kind
// found by a unique key (a hash) that must be given.
func (t table[R, T]) createIndexed(ctx context.Context, s *Store, v *T, idx []byte, key, keyName string) error {
	if key == "" {
		return fmt.Errorf("bolt: %s %s is required", t.what, keyName)
	}
	return s.update(ctx, func(tx *bolt.Tx) error { return t.insertIndexed(tx, v, idx, []byte(key)) })
}

// insertIndexed writes a new v and points idx's entry at key to it;
// ErrConflict when v's key or the index entry is taken (a unique index).
func (t table[R, T]) insertIndexed(tx *bolt.Tx, v *T, idx, key []byte) error {
	b := tx.Bucket(idx)
	if b.Get(key) != nil {
		return store.ErrConflict
	}
	if err := t.insert(tx, v); err != nil {
		return err
	}
	return b.Put(key, []byte(t.key(v)))
}
