package llmproxy

import (
	"context"
	"sync"

	"github.com/vegasec/vega/store"
)

// memStore is the proxy's three store methods over a map. No store
// implementation is committed yet when this was written; the calls follow
// the store.Store contract (UpdateScan is atomic per scan).
type memStore struct {
	mu      sync.Mutex
	scans   map[string]*store.Scan
	records []store.UsageRecord
}

func newMemStore(scans ...*store.Scan) *memStore {
	m := &memStore{scans: map[string]*store.Scan{}}
	for _, s := range scans {
		m.scans[s.ID] = s
	}
	return m
}

func (m *memStore) GetScan(_ context.Context, sc store.Scope, id string) (*store.Scan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.scans[id]
	if !ok || !sc.Allows(s.OwnerUserID) {
		return nil, store.ErrNotFound
	}
	c := *s
	return &c, nil
}

func (m *memStore) UpdateScan(_ context.Context, sc store.Scope, id string, fn func(*store.Scan) error) (*store.Scan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.scans[id]
	if !ok || !sc.Allows(s.OwnerUserID) {
		return nil, store.ErrNotFound
	}
	c := *s
	if err := fn(&c); err != nil {
		return nil, err
	}
	m.scans[id] = &c
	out := c
	return &out, nil
}

func (m *memStore) CreateUsageRecord(_ context.Context, r *store.UsageRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, *r)
	return nil
}

func (m *memStore) usageRecords() []store.UsageRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.UsageRecord(nil), m.records...)
}
