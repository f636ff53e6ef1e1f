// Package postgres implements store.Store on PostgreSQL with pgx (no ORM) for
// the AWS runtime and for any deployment with more than one process.
//
// Design notes:
//   - The schema lives in /migrations and is applied by app/migrate; Open does
//     not migrate, so a process never changes a shared schema by surprise.
//   - Every call runs under a timeout (WithOpTimeout) on top of the caller's
//     context, so a stuck database surfaces as an error instead of a hang.
//   - UpdateX is SELECT … FOR UPDATE, the caller's fn, UPDATE in one
//     transaction; the row lock is what makes read-modify-write atomic.
//   - Timestamps are stored with microsecond precision (Postgres' limit). The
//     store truncates the times it writes and sets them back on the caller's
//     struct, so what a caller holds equals what a later read returns.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vegasec/vega/store"
)

// DefaultOpTimeout bounds one store call when the caller's context allows longer.
const DefaultOpTimeout = 15 * time.Second

// DefaultMaxConns is the pool size unless the DSN sets pool_max_conns. It is
// above pgxpool's CPU-based default because API handlers and SSE streams hold
// connections only briefly but many at once.
const DefaultMaxConns = 16

// Store is the Postgres implementation of store.Store.
type Store struct {
	pool      *pgxpool.Pool
	now       func() time.Time
	opTimeout time.Duration
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock used for timestamps the store fills in itself.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithOpTimeout sets the per-call timeout (values <= 0 keep the default).
func WithOpTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.opTimeout = d
		}
	}
}

// Open connects a pool to dsn and checks the server answers. It does not
// migrate: call app/migrate first (or check migrate.Pending to refuse to start).
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password; never echo it.
		return nil, errors.New("postgres: invalid database URL")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Read timestamptz back in UTC (Vega's timestamps are UTC everywhere) rather
		// than in the process' local zone.
		c.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	s := &Store{now: time.Now, opTimeout: DefaultOpTimeout}
	for _, o := range opts {
		o(s)
	}
	octx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(octx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	if err := pool.Ping(octx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s.pool = pool
	return s, nil
}

// Pool exposes the connection pool for the migration runner and health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.pool.Ping(ctx)
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// op derives the context of one store call: the caller's deadline or the
// store's timeout, whichever comes first.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opTimeout)
}

// nowUTC is the store clock, UTC, at the precision Postgres keeps.
func (s *Store) nowUTC() time.Time { return ts(s.now()) }

// inTx runs fn in a transaction, committing when it returns nil. An error
// from fn comes back unchanged (UpdateX must return the callback's error as
// is); begin and commit failures are mapped like any other driver error.
func (s *Store) inTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
	if err != nil && fnErr == nil {
		return mapErr(op, err)
	}
	return err
}

// updateLocked is the shape of every UpdateX: lock the row (sel returns it
// with FOR UPDATE), let fn change it, restore what fn may not change, save.
func updateLocked[T any](ctx context.Context, s *Store, op string,
	sel func(context.Context, pgx.Tx) (*T, error), fn func(*T) error,
	restore func(old, cur *T), save func(context.Context, pgx.Tx, *T) error) (*T, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var out *T
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		old, err := sel(ctx, tx)
		if err != nil {
			return err
		}
		cur := *old
		if err := fn(&cur); err != nil {
			return err
		}
		restore(old, &cur)
		if err := save(ctx, tx, &cur); err != nil {
			return err
		}
		out = &cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ts normalises a time to what Postgres stores: UTC, microseconds.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tsp normalises an optional time in place.
func tsp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// mapErr turns driver errors into the store's sentinel errors. Callers add
// no SQL to messages; constraint names are internal but harmless.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", store.ErrConflict, pgErr.ConstraintName)
		case "23503": // foreign_key_violation: the parent does not exist
			return fmt.Errorf("%w: parent of %s", store.ErrNotFound, op)
		}
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// toJSON encodes a nested value for a json/jsonb column. Nil slices and maps
// encode as JSON null so they read back nil, exactly as they went in.
func toJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only channels, funcs and cyclic values fail, none of which are in
		// store types; a panic here is a programming error.
		panic(fmt.Sprintf("postgres: encode %T: %v", v, err))
	}
	return b
}

// fromJSON decodes a json/jsonb column; SQL NULL leaves v untouched.
func fromJSON(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// query accumulates positional arguments for a dynamically built statement.
type query struct {
	where []string
	args  []any
}

// arg adds a value and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// and adds a condition to the WHERE clause.
func (q *query) and(cond string) { q.where = append(q.where, cond) }

// scope restricts rows to what sc may see; a zero Scope sees nothing.
func (q *query) scope(sc store.Scope, col string) {
	switch {
	case sc.IsSystem():
	case sc.UserID() == "":
		q.and("FALSE")
	default:
		q.and(col + " = " + q.arg(sc.UserID()))
	}
}

// cond renders the conditions joined by AND.
func (q *query) cond() string { return strings.Join(q.where, " AND ") }

// whereSQL renders the conditions ("" when there are none).
func (q *query) whereSQL() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + q.cond()
}

// page adds keyset pagination (newest first by id) and returns the ORDER/LIMIT
// tail. It fetches one row more than asked so the caller knows if another page exists.
func (q *query) page(p store.Page) (string, int) {
	p = p.Normalize()
	if p.Cursor != "" {
		q.and("id < " + q.arg(p.Cursor))
	}
	return " ORDER BY id DESC LIMIT " + strconv.Itoa(p.Limit+1), p.Limit
}

// trimPage cuts the look-ahead row and returns the next cursor ("" at the end).
func trimPage[T any](items []T, limit int, id func(*T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, id(&items[limit-1])
}

// listPage selects one page of table, newest first, with q's conditions:
// it asks for one look-ahead row and turns it into the next cursor.
func listPage[T any](ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, op, cols, table string, q *query, p store.Page, scan func(pgx.Row) (T, error), id func(*T) string) ([]T, string, error) {
	tail, limit := q.page(p)
	items, err := collect(ctx, db, op, `SELECT `+cols+` FROM `+table+q.whereSQL()+tail, q.args, scan)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, limit, id)
	return items, next, nil
}

// collect runs a query and scans every row with fn into a non-nil slice.
func collect[T any](ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, op, sql string, args []any, fn func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return fn(r) })
	if err != nil {
		return nil, mapErr(op, err)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// escapeLike quotes LIKE wildcards so user input matches literally.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// selectOne reads one row of table by id within scope sc (suffix may add FOR UPDATE).
func selectOne[T any](ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, op, table, cols, ownerCol string, sc store.Scope, id, suffix string, scan func(pgx.Row) (T, error)) (*T, error) {
	var q query
	q.and("id = " + q.arg(id))
	q.scope(sc, ownerCol)
	v, err := scan(db.QueryRow(ctx, `SELECT `+cols+` FROM `+table+q.whereSQL()+suffix, q.args...))
	if err != nil {
		return nil, mapErr(op, err)
	}
	return &v, nil
}

// severityCounts reads a {"severity": n} object into SeverityCounts; unknown
// severities are ignored, as SeverityCounts.Inc does.
func severityCounts(b []byte) (store.SeverityCounts, error) {
	var c store.SeverityCounts
	var m map[string]int
	if err := fromJSON(b, &m); err != nil {
		return c, fmt.Errorf("postgres: decode severity counts: %w", err)
	}
	c.Critical, c.High, c.Medium = m[store.SeverityCritical], m[store.SeverityHigh], m[store.SeverityMedium]
	c.Low, c.Info = m[store.SeverityLow], m[store.SeverityInfo]
	return c, nil
}
