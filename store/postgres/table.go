package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vegasec/vega/store"
)

// table maps one table's rows to T, so the get, list, insert, update and
// delete shapes that every kind of object repeats are written once.
type table[T any] struct {
	name  string
	cols  string         // the columns, id first, in dests order
	owner string         // the column a Scope checks; "" where only store.System() reads
	dests func(*T) []any // where one row's columns are scanned to, in cols order
}

// scan reads one row into a T.
func (t table[T]) scan(r pgx.Row) (T, error) {
	var x T
	err := r.Scan(t.dests(&x)...)
	return x, err
}

// id is x's primary key: cols, and so dests, start with it.
func (t table[T]) id(x *T) string { return *t.dests(x)[0].(*string) }

// get reads the row id within sc.
func (t table[T]) get(ctx context.Context, s *Store, op string, sc store.Scope, id string) (*T, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, op, t.name, t.cols, t.owner, sc, id, "", t.scan)
}

// getWhere reads the first row matching cond: the WHERE clause, with any
// ORDER BY/LIMIT tail (a constant of the caller; values go in args).
func (t table[T]) getWhere(ctx context.Context, s *Store, op, cond string, args ...any) (*T, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	x, err := t.scan(s.pool.QueryRow(ctx, `SELECT `+t.cols+` FROM `+t.name+` WHERE `+cond, args...))
	if err != nil {
		return nil, mapErr(op, err)
	}
	return &x, nil
}

// getBy reads the one row whose col equals val. An empty val finds nothing:
// an unset hash or subject must never match a row that has none either.
func (t table[T]) getBy(ctx context.Context, s *Store, op, col, val string) (*T, error) {
	if val == "" {
		return nil, store.ErrNotFound
	}
	return t.getWhere(ctx, s, op, col+` = $1`, val)
}

// list reads one page of the rows matching q, newest first.
func (t table[T]) list(ctx context.Context, s *Store, op string, q *query, p store.Page) ([]T, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return listPage(ctx, s.pool, op, t.cols, t.name, q, p, t.scan, t.id)
}

// listBy reads one page of the rows within sc whose col equals val.
func (t table[T]) listBy(ctx context.Context, s *Store, op string, sc store.Scope, col, val string, p store.Page) ([]T, string, error) {
	var q query
	q.and(col + " = " + q.arg(val))
	q.scope(sc, t.owner)
	return t.list(ctx, s, op, &q, p)
}

// listUnder is listBy for the rows under one parent row: ErrNotFound, not
// an empty page, when sc may not see parentID in the parent table (which
// t.owner scopes too).
func (t table[T]) listUnder(ctx context.Context, s *Store, op string, sc store.Scope, parent, col, parentID string, p store.Page) ([]T, string, error) {
	if err := s.visible(ctx, op, parent, t.owner, sc, parentID); err != nil {
		return nil, "", err
	}
	return t.listBy(ctx, s, op, sc, col, parentID, p)
}

// visible is nil when sc may see the row id of table, ErrNotFound otherwise.
func (s *Store) visible(ctx context.Context, op, table, owner string, sc store.Scope, id string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("id = " + q.arg(id))
	q.scope(sc, owner)
	var one int
	return mapErr(op, s.pool.QueryRow(ctx, `SELECT 1 FROM `+table+q.whereSQL(), q.args...).Scan(&one))
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insert writes one row; args are its values in cols order.
func (t table[T]) insert(ctx context.Context, db execer, op string, args ...any) error {
	ph := make([]string, len(args))
	for i := range args {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	_, err := db.Exec(ctx, `INSERT INTO `+t.name+` (`+t.cols+`) VALUES (`+strings.Join(ph, ",")+`)`, args...)
	return mapErr(op, err)
}

// create is insert under the store's call timeout.
func (t table[T]) create(ctx context.Context, s *Store, op string, args ...any) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return t.insert(ctx, s.pool, op, args...)
}

// update is UpdateX for a row of this table: lock id within sc, apply fn,
// restore what fn may not change, save (see updateLocked).
func (t table[T]) update(ctx context.Context, s *Store, op string, sc store.Scope, id string, fn func(*T) error,
	restore func(old, cur *T), save func(context.Context, pgx.Tx, *T) error) (*T, error) {
	return updateLocked(ctx, s, op, t.lock(op, sc, id), fn, restore, save)
}

// lock reads the row id within sc FOR UPDATE, in an update's transaction.
func (t table[T]) lock(op string, sc store.Scope, id string) func(context.Context, pgx.Tx) (*T, error) {
	return func(ctx context.Context, tx pgx.Tx) (*T, error) {
		return selectOne(ctx, tx, op, t.name, t.cols, t.owner, sc, id, " FOR UPDATE", t.scan)
	}
}

// delete deletes the row id within sc; ErrNotFound when none matched.
func (t table[T]) delete(ctx context.Context, s *Store, op string, sc store.Scope, id string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return deleteWhere(ctx, s.pool, op, t.name, t.owner, sc, id)
}

// deleteWhere deletes the row id of table within sc; ErrNotFound when none matched.
func deleteWhere(ctx context.Context, db execer, op, table, owner string, sc store.Scope, id string) error {
	var q query
	q.and("id = " + q.arg(id))
	q.scope(sc, owner)
	tag, err := db.Exec(ctx, `DELETE FROM `+table+q.whereSQL(), q.args...)
	if err != nil {
		return mapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// jsonCol scans a json/jsonb column into v with fromJSON (SQL NULL leaves v
// untouched), so a row's JSON fields sit among its other scan destinations.
type jsonCol struct{ v any }

// ScanBytes implements pgtype.BytesScanner.
func (j jsonCol) ScanBytes(b []byte) error { return fromJSON(b, j.v) }
