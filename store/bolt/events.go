package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// Events live in one sub-bucket per scan keyed by big-endian seq, so the next
// seq is the last key + 1 and ListEvents seeks straight to after_seq.

// AppendEvents stores evs as the scan's next seqs in one transaction.
// ErrNotFound when the scan does not exist.
func (s *Store) AppendEvents(ctx context.Context, scanID string, evs []store.Event) ([]store.Event, error) {
	if len(evs) == 0 {
		return []store.Event{}, nil
	}
	now := s.nowUTC()
	var out []store.Event
	err := s.update(ctx, func(tx *bolt.Tx) (err error) {
		out, err = appendEventsTx(tx, scanID, evs, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendEventsTx is AppendEvents within tx.
func appendEventsTx(tx *bolt.Tx, scanID string, evs []store.Event, now time.Time) ([]store.Event, error) {
	out := make([]store.Event, len(evs))
	if len(evs) == 0 {
		return out, nil
	}
	if !scans.has(tx, scanID) {
		return nil, store.ErrNotFound
	}
	b, err := tx.Bucket(bktEvents).CreateBucketIfNotExists([]byte(scanID))
	if err != nil {
		return nil, err
	}
	// Appends always land at the end, so a full fill factor keeps pages dense.
	b.FillPercent = 1.0
	var seq int64
	if k, _ := b.Cursor().Last(); k != nil {
		seq = int64(binary.BigEndian.Uint64(k))
	}
	for i, ev := range evs {
		seq++
		ev.ScanID, ev.Seq = scanID, seq
		if ev.CreatedAt.IsZero() {
			ev.CreatedAt = now
		}
		if err := putJSON(b, uint64Key(uint64(seq)), ev); err != nil {
			return nil, err
		}
		out[i] = ev
	}
	return out, nil
}

// ListEvents returns up to limit events with seq > afterSeq in seq order.
// limit <= 0 means store.DefaultLimit; it is capped at store.MaxLimit.
func (s *Store) ListEvents(ctx context.Context, scanID string, afterSeq int64, limit int) ([]store.Event, error) {
	limit = store.Page{Limit: limit}.Normalize().Limit
	if afterSeq < 0 {
		afterSeq = 0
	}
	out := []store.Event{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktEvents).Bucket([]byte(scanID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(uint64Key(uint64(afterSeq) + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var ev store.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("bolt: decode event %s/%d: %w", scanID, binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}
