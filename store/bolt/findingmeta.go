package bolt

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// Findings lists filter, count and sort every finding of a repository before
// paging, so they read the idx_finding_meta bucket instead of the findings
// bucket: per finding, the fields lists use (and the lower-cased text the q
// filter searches) in a compact binary record keyed repository \x00 ID. It
// decodes ~50x faster than the JSON record; only the page's rows are read in
// full (docs/benchmarks.md, "Findings lists").

const metaVersion = 1

// findingMeta is a view of one meta record: every field aliases the bbolt
// value (no copies), so it is valid only inside the transaction and a
// caller copies what it keeps.
type findingMeta struct {
	id, owner, project, repo, severity, status, engine, rule, path, first, last []byte
	search                                                                      [4][]byte // lower(title), lower(description), lower(path), lower(rule)
	cwe                                                                         [][]byte
}

func metaKey(f *store.Finding) []byte { return compositeKey(f.RepositoryID, f.ID) }

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeMeta(f *store.Finding) []byte {
	b := make([]byte, 0, 128+len(f.Title)+len(f.Description))
	b = append(b, metaVersion)
	for _, s := range []string{f.ID, f.OwnerUserID, f.ProjectID, f.RepositoryID, f.Severity, f.Status, f.Engine,
		f.RuleID, f.FilePath, f.FirstSeenScanID, f.LastSeenScanID,
		strings.ToLower(f.Title), strings.ToLower(f.Description), strings.ToLower(f.FilePath), strings.ToLower(f.RuleID)} {
		b = appendStr(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(f.CWE)))
	for _, c := range f.CWE {
		b = appendStr(b, c)
	}
	return b
}

var errMeta = errors.New("bolt: corrupt finding meta record")

func decodeMeta(v []byte, m *findingMeta) error {
	if len(v) == 0 || v[0] != metaVersion {
		return errMeta
	}
	b := v[1:]
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		out := b[k : k+int(n) : k+int(n)]
		b = b[k+int(n):]
		return out, true
	}
	for _, p := range []*[]byte{&m.id, &m.owner, &m.project, &m.repo, &m.severity, &m.status, &m.engine,
		&m.rule, &m.path, &m.first, &m.last, &m.search[0], &m.search[1], &m.search[2], &m.search[3]} {
		var ok bool
		if *p, ok = next(); !ok {
			return errMeta
		}
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return errMeta
	}
	b = b[k:]
	m.cwe = m.cwe[:0]
	for i := uint64(0); i < n; i++ {
		c, ok := next()
		if !ok {
			return errMeta
		}
		m.cwe = append(m.cwe, c)
	}
	return nil
}

// putMeta keeps the meta record of f in step with its JSON record.
func putMeta(tx *bolt.Tx, f *store.Finding) error {
	return tx.Bucket(idxFindingMeta).Put(metaKey(f), encodeMeta(f))
}

// buildFindingMeta fills idx_finding_meta from findings stored before it
// existed, which also predate rule_id: those get their category as rule_id,
// what every engine reported as rule (migration 0009 does the same in Postgres).
func buildFindingMeta(tx *bolt.Tx) error {
	var legacy []*store.Finding
	err := findings.each(tx, func(f *store.Finding) error {
		if f.RuleID == "" && f.Category != "" {
			f.RuleID = f.Category
			legacy = append(legacy, f)
			return nil
		}
		return putMeta(tx, f)
	})
	if err != nil {
		return err
	}
	// Written after the walk: a bucket must not change under its ForEach.
	for _, f := range legacy {
		if err := putFinding(tx, f, f); err != nil {
			return err
		}
	}
	return nil
}

// metaFilter is a FindingFilter prepared for one transaction: the scan
// memberships read once, the repository prefix to seek.
type metaFilter struct {
	f                   store.FindingFilter
	sc                  store.Scope
	prefix              []byte
	inScan, also, notIn map[string]bool
	query, pathPrefix   []byte
	none                bool // nothing can match (unknown scan)
}

func scanMembers(tx *bolt.Tx, scanID string) map[string]bool {
	out := map[string]bool{}
	if b := tx.Bucket(bktScanFindings).Bucket([]byte(scanID)); b != nil {
		_ = b.ForEach(func(_, v []byte) error { out[string(v)] = true; return nil })
	}
	return out
}

func prepareFilter(tx *bolt.Tx, sc store.Scope, f store.FindingFilter) *metaFilter {
	mf := &metaFilter{f: f, sc: sc, pathPrefix: []byte(f.PathPrefix)}
	if f.Query != "" {
		mf.query = []byte(strings.ToLower(f.Query))
	}
	repo := f.RepositoryID
	if f.ScanID != "" {
		mf.inScan = scanMembers(tx, f.ScanID)
		if r, err := scans.get(tx, f.ScanID); err != nil {
			mf.none = true
		} else if repo == "" {
			repo = r.RepositoryID
		} else if repo != r.RepositoryID {
			mf.none = true
		}
	}
	if f.AlsoInScanID != "" {
		mf.also = scanMembers(tx, f.AlsoInScanID)
	}
	if f.NotInScanID != "" {
		mf.notIn = scanMembers(tx, f.NotInScanID)
	}
	if repo != "" {
		mf.prefix = compositeKey(repo, "")
	}
	return mf
}

// in reports whether b equals one of list (no allocation).
func in(list []string, b []byte) bool {
	for _, s := range list {
		if string(b) == s {
			return true
		}
	}
	return false
}

// match reports whether m passes every condition but the statuses (status
// counts ignore them; eachMeta checks them apart).
func (mf *metaFilter) match(m *findingMeta) bool {
	f := &mf.f
	if !mf.sc.Allows(string(m.owner)) ||
		(f.ProjectID != "" && string(m.project) != f.ProjectID) ||
		(f.RepositoryID != "" && string(m.repo) != f.RepositoryID) ||
		(mf.inScan != nil && !mf.inScan[string(m.id)]) ||
		(mf.also != nil && !mf.also[string(m.id)]) ||
		(mf.notIn != nil && mf.notIn[string(m.id)]) ||
		(len(f.Severities) > 0 && !in(f.Severities, m.severity)) ||
		(len(f.Engines) > 0 && !in(f.Engines, m.engine)) ||
		(len(f.Rules) > 0 && !in(f.Rules, m.rule)) ||
		(f.PathPrefix != "" && !bytes.HasPrefix(m.path, mf.pathPrefix)) {
		return false
	}
	if f.CWE != "" {
		found := false
		for _, c := range m.cwe {
			if string(c) == f.CWE {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if mf.query != nil {
		for _, s := range m.search {
			if bytes.Contains(s, mf.query) {
				return true
			}
		}
		return false
	}
	return true
}

// eachMeta calls fn for every finding matching mf (statuses aside), with
// whether it also matches the statuses. m is reused between calls.
func eachMeta(tx *bolt.Tx, mf *metaFilter, fn func(m *findingMeta, statusOK bool)) error {
	if mf.none {
		return nil
	}
	c := tx.Bucket(idxFindingMeta).Cursor()
	var m findingMeta
	k, v := c.First()
	if mf.prefix != nil {
		k, v = c.Seek(mf.prefix)
	}
	for ; k != nil; k, v = c.Next() {
		if mf.prefix != nil && !hasPrefix(k, mf.prefix) {
			break
		}
		if err := decodeMeta(v, &m); err != nil {
			return fmt.Errorf("%w %q", err, k)
		}
		if mf.match(&m) {
			fn(&m, len(mf.f.Statuses) == 0 || in(mf.f.Statuses, m.status))
		}
	}
	return nil
}

func hasPrefix(k, p []byte) bool { return len(k) >= len(p) && string(k[:len(p)]) == string(p) }

// rank is store.SeverityRank or store.FindingStatusRank of b, without
// allocating.
func rank(values []string, b []byte, reversed bool) int {
	for i, v := range values {
		if string(b) == v {
			if reversed {
				return len(values) - 1 - i
			}
			return i
		}
	}
	return -1
}

// position is m's place in sort s (store.FindingSort.Position on the view).
func position(s store.FindingSort, m *findingMeta) store.FindingPosition {
	p := store.FindingPosition{Path: string(m.path), ID: string(m.id)}
	switch s.Key {
	case store.SortSeverity:
		p.N = rank(store.Severities, m.severity, true)
	case store.SortStatus:
		p.N = rank(store.FindingStatuses, m.status, false)
	case store.SortPath:
		p.S = p.Path
	case store.SortRule:
		p.S = string(m.rule)
	case store.SortFirstSeen:
		p.S = string(m.first)
	case store.SortLastSeen:
		p.S = string(m.last)
	}
	return p
}

// listFindings sorts the position of every match and cuts the page after
// the cursor; only the page's rows are decoded in full.
func listFindings(tx *bolt.Tx, sc store.Scope, f store.FindingFilter, p store.Page) ([]store.Finding, string, error) {
	p = p.Normalize()
	srt := f.Sort
	var after *store.FindingPosition
	if p.Cursor != "" && srt.Key != "" {
		a, err := srt.ParseCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = &a
	}
	order := srt.Compare
	if srt.Key == "" { // newest first by ID; the cursor is an ID
		order = func(a, b store.FindingPosition) int { return strings.Compare(b.ID, a.ID) }
	}
	// Only the page (and one look-ahead row) is kept: a bounded heap
	// whose root is the worst kept row, so most rows cost one comparison.
	top := &positionHeap{cmp: order}
	k := p.Limit + 1
	err := eachMeta(tx, prepareFilter(tx, sc, f), func(m *findingMeta, ok bool) {
		if !ok || (srt.Key == "" && p.Cursor != "" && string(m.id) >= p.Cursor) {
			return
		}
		pos := position(srt, m)
		if after != nil && srt.Compare(pos, *after) <= 0 {
			return
		}
		if len(top.items) < k {
			heap.Push(top, pos)
		} else if order(pos, top.items[0]) < 0 {
			top.items[0] = pos
			heap.Fix(top, 0)
		}
	})
	if err != nil {
		return nil, "", err
	}
	rows := top.items
	slices.SortFunc(rows, order)
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		if last := rows[p.Limit-1]; srt.Key == "" {
			next = last.ID
		} else {
			next = srt.CursorAt(last)
		}
	}
	out := make([]store.Finding, 0, len(rows))
	for _, r := range rows {
		x, err := findings.get(tx, r.ID)
		if err != nil {
			return nil, "", fmt.Errorf("bolt: finding %s indexed but unreadable: %w", r.ID, err)
		}
		out = append(out, *x)
	}
	return out, next, nil
}

// positionHeap is a max-heap of positions under cmp (the root sorts last).
type positionHeap struct {
	items []store.FindingPosition
	cmp   func(a, b store.FindingPosition) int
}

func (h *positionHeap) Len() int           { return len(h.items) }
func (h *positionHeap) Less(i, j int) bool { return h.cmp(h.items[i], h.items[j]) > 0 }
func (h *positionHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *positionHeap) Push(x any)         { h.items = append(h.items, x.(store.FindingPosition)) }
func (h *positionHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
