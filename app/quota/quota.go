// Package quota enforces the per-user caps on projects, repositories and
// stored bytes (VEGA_MAX_PROJECTS_PER_USER, VEGA_MAX_REPOSITORIES_PER_USER,
// VEGA_MAX_STORED_BYTES_PER_USER; what they count is in docs/limits.md).
// Checks read the user's totals from the store, which keeps them cheap, and
// run under one lock with the write they guard, so two requests in this
// process cannot both take the last place.
package quota

import (
	"context"
	"math"
	"sync"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// Limits are the caps; 0 means unlimited.
type Limits struct {
	Projects     int   `json:"max_projects"`
	Repositories int   `json:"max_repositories"`
	StoredBytes  int64 `json:"max_stored_bytes"`
}

// Checker checks and guards additions against the caps.
type Checker struct {
	st  store.QuotaStore
	lim Limits
	mu  sync.Mutex
}

func New(st store.QuotaStore, lim Limits) *Checker {
	return &Checker{st: st, lim: lim}
}

// Limits returns the caps in force.
func (c *Checker) Limits() Limits { return c.lim }

// Totals returns what the user has now.
func (c *Checker) Totals(ctx context.Context, userID string) (store.OwnedTotals, error) {
	return c.st.OwnedTotals(ctx, userID)
}

// AddProject runs add when the user has room for one more project.
func (c *Checker) AddProject(ctx context.Context, userID string, add func() error) error {
	return c.guard(ctx, userID, add, func(t store.OwnedTotals) error {
		if c.lim.Projects > 0 && t.Projects >= c.lim.Projects {
			return apperr.Quota(c.lim.Projects, t.Projects,
				"You have %d projects, the most allowed per user (VEGA_MAX_PROJECTS_PER_USER); delete one or ask an operator to raise the limit", t.Projects)
		}
		return nil
	})
}

// AddRepository runs add when the user has room for one more repository
// and stored bytes left for its first snapshot.
func (c *Checker) AddRepository(ctx context.Context, userID string, add func() error) error {
	return c.guard(ctx, userID, add, c.repositoryRoom)
}

// RoomForRepository is AddRepository's check alone, for refusing early (before
// an upload streams in or a push remote is handed out).
func (c *Checker) RoomForRepository(ctx context.Context, userID string) error {
	t, err := c.st.OwnedTotals(ctx, userID)
	if err != nil {
		return err
	}
	return c.repositoryRoom(t)
}

func (c *Checker) repositoryRoom(t store.OwnedTotals) error {
	if c.lim.Repositories > 0 && t.Repositories >= c.lim.Repositories {
		return apperr.Quota(c.lim.Repositories, t.Repositories,
			"You have %d repositories, the most allowed per user (VEGA_MAX_REPOSITORIES_PER_USER); delete one or ask an operator to raise the limit", t.Repositories)
	}
	return c.storageLeft(t)
}

// RoomToStore returns how many more bytes the user may store (math.MaxInt64
// when unlimited), or quota_exceeded when none: the check before an ingest
// starts, and the bound an upload streams against.
func (c *Checker) RoomToStore(ctx context.Context, userID string) (int64, error) {
	if c.lim.StoredBytes <= 0 {
		return math.MaxInt64, nil
	}
	t, err := c.st.OwnedTotals(ctx, userID)
	if err != nil {
		return 0, err
	}
	if err := c.storageLeft(t); err != nil {
		return 0, err
	}
	return c.lim.StoredBytes - t.StoredBytes, nil
}

// AddSnapshot runs add when a snapshot of size bytes still fits the user's
// stored bytes: the last check, once the real size is known.
func (c *Checker) AddSnapshot(ctx context.Context, userID string, size int64, add func() error) error {
	return c.guard(ctx, userID, add, func(t store.OwnedTotals) error {
		if c.lim.StoredBytes > 0 && t.StoredBytes+size > c.lim.StoredBytes {
			return apperr.Quota(c.lim.StoredBytes, t.StoredBytes,
				"This snapshot (%s) would take your stored snapshots past %s, the most allowed per user (VEGA_MAX_STORED_BYTES_PER_USER); delete repositories you no longer need or ask an operator to raise the limit",
				apperr.Bytes(size), apperr.Bytes(c.lim.StoredBytes))
		}
		return nil
	})
}

// Upload turns the error of an upload cut off at room bytes (RoomToStore)
// into quota_exceeded; any other error passes through.
func (c *Checker) Upload(err error, room int64) error {
	if !apperr.IsCode(err, apperr.PayloadTooLarge) || c.lim.StoredBytes <= 0 {
		return err
	}
	used := c.lim.StoredBytes - room
	return apperr.Quota(c.lim.StoredBytes, used,
		"The upload is larger than the %s your stored snapshots have left of the %s allowed per user (VEGA_MAX_STORED_BYTES_PER_USER)",
		apperr.Bytes(room), apperr.Bytes(c.lim.StoredBytes))
}

func (c *Checker) storageLeft(t store.OwnedTotals) error {
	if c.lim.StoredBytes > 0 && t.StoredBytes >= c.lim.StoredBytes {
		return apperr.Quota(c.lim.StoredBytes, t.StoredBytes,
			"Your snapshots take %s, the most allowed per user (VEGA_MAX_STORED_BYTES_PER_USER); delete repositories you no longer need or ask an operator to raise the limit",
			apperr.Bytes(t.StoredBytes))
	}
	return nil
}

// guard runs check on the user's totals and then add, under the lock.
func (c *Checker) guard(ctx context.Context, userID string, add func() error, check func(store.OwnedTotals) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.st.OwnedTotals(ctx, userID)
	if err != nil {
		return err
	}
	if err := check(t); err != nil {
		return err
	}
	return add()
}
