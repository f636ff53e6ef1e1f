package store

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// Sort keys of a findings list (README, "Findings lists"; docs/findings.md
// "Rules and lists"). Ascending is the natural order of the key: severity and status
// by rank (info → critical; open, confirmed, dismissed, fixed), path and
// rule A→Z, first_seen and last_seen oldest first. Ties always go by file
// path A→Z, then ID, so the order is total and a cursor is exact.
const (
	SortSeverity  = "severity"
	SortPath      = "path"
	SortRule      = "rule"
	SortFirstSeen = "first_seen"
	SortLastSeen  = "last_seen"
	SortStatus    = "status"
)

// FindingSortKeys lists every sort key.
var FindingSortKeys = []string{SortSeverity, SortPath, SortRule, SortFirstSeen, SortLastSeen, SortStatus}

// FindingStatuses lists the statuses in workflow order (the status sort).
var FindingStatuses = []string{FindingOpen, FindingConfirmed, FindingDismissed, FindingFixed}

// FindingStatusRank orders statuses: open 0 … fixed 3, unknown -1.
func FindingStatusRank(s string) int {
	for i, x := range FindingStatuses {
		if x == s {
			return i
		}
	}
	return -1
}

// FindingSort orders a findings list. The zero value is the store's own
// order (newest first by ID, the cursor being the last ID), which internal
// callers that walk every finding use.
type FindingSort struct {
	Key  string // one of FindingSortKeys, or "" for newest first
	Desc bool
}

// String is the ?sort= spelling: the key, "-" first when descending.
func (s FindingSort) String() string {
	if s.Desc {
		return "-" + s.Key
	}
	return s.Key
}

// ParseFindingSort reads a ?sort= value; ok is false for an unknown key.
func ParseFindingSort(v string) (FindingSort, bool) {
	s := FindingSort{Key: strings.TrimPrefix(v, "-"), Desc: strings.HasPrefix(v, "-")}
	for _, k := range FindingSortKeys {
		if k == s.Key {
			return s, true
		}
	}
	return FindingSort{}, false
}

// Numeric reports whether the key sorts by a rank (Position.N) rather than
// by text (Position.S).
func (s FindingSort) Numeric() bool { return s.Key == SortSeverity || s.Key == SortStatus }

// FindingPosition is where a finding sits in a sort: the key's value (a rank
// in N or text in S), then its file path, then its ID. A keyset cursor is
// the position of the last finding of a page.
type FindingPosition struct {
	N    int    `json:"n,omitempty"`
	S    string `json:"s,omitempty"`
	Path string `json:"p,omitempty"`
	ID   string `json:"i"`
}

// Position returns f's position in sort s.
func (s FindingSort) Position(f *Finding) FindingPosition {
	p := FindingPosition{Path: f.FilePath, ID: f.ID}
	switch s.Key {
	case SortSeverity:
		p.N = SeverityRank(f.Severity)
	case SortStatus:
		p.N = FindingStatusRank(f.Status)
	case SortPath:
		p.S = f.FilePath
	case SortRule:
		p.S = f.RuleID
	case SortFirstSeen:
		p.S = f.FirstSeenScanID
	case SortLastSeen:
		p.S = f.LastSeenScanID
	}
	return p
}

// Compare orders two positions in sort s (negative when a comes first).
// Strings compare byte-wise, as Postgres does under COLLATE "C".
func (s FindingSort) Compare(a, b FindingPosition) int {
	c := cmp.Compare(a.N, b.N)
	if c == 0 {
		c = strings.Compare(a.S, b.S)
	}
	if s.Desc {
		c = -c
	}
	if c == 0 {
		c = strings.Compare(a.Path, b.Path)
	}
	if c == 0 {
		c = strings.Compare(a.ID, b.ID)
	}
	return c
}

// ErrBadCursor: a cursor that this list did not issue (another sort, or garbage).
var ErrBadCursor = errors.New("store: not a cursor of this list")

type cursorJSON struct {
	Sort string `json:"o"`
	FindingPosition
}

// Cursor encodes the position of f as the opaque cursor of the next page.
func (s FindingSort) Cursor(f *Finding) string { return s.CursorAt(s.Position(f)) }

// CursorAt encodes a position as a cursor.
func (s FindingSort) CursorAt(p FindingPosition) string {
	if s.Key == SortPath {
		p.Path = "" // the same as S: sent once, so a 1 KiB path fits the cursor limit
	}
	b, _ := json.Marshal(cursorJSON{Sort: s.String(), FindingPosition: p})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes a cursor issued by Cursor for the same sort.
func (s FindingSort) ParseCursor(c string) (FindingPosition, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return FindingPosition{}, ErrBadCursor
	}
	var v cursorJSON
	if json.Unmarshal(b, &v) != nil || v.Sort != s.String() || v.ID == "" {
		return FindingPosition{}, ErrBadCursor
	}
	if s.Key == SortPath {
		v.Path = v.S
	}
	return v.FindingPosition, nil
}

// StatusCounts counts findings per status: the tabs of a findings list.
type StatusCounts struct {
	Open      int `json:"open"`
	Confirmed int `json:"confirmed"`
	Dismissed int `json:"dismissed"`
	Fixed     int `json:"fixed"`
}

// Add adds n to the counter of status s (unknown statuses are ignored).
func (c *StatusCounts) Add(s string, n int) {
	switch s {
	case FindingOpen:
		c.Open += n
	case FindingConfirmed:
		c.Confirmed += n
	case FindingDismissed:
		c.Dismissed += n
	case FindingFixed:
		c.Fixed += n
	}
}

// Get returns the counter of status s.
func (c StatusCounts) Get(s string) int {
	switch s {
	case FindingOpen:
		return c.Open
	case FindingConfirmed:
		return c.Confirmed
	case FindingDismissed:
		return c.Dismissed
	case FindingFixed:
		return c.Fixed
	}
	return 0
}

// RuleGroup is one row of a findings list grouped by rule.
type RuleGroup struct {
	RuleID string `json:"rule_id"`
	// Severity is the highest severity among the rule's findings.
	Severity string         `json:"severity"`
	Count    int            `json:"count"`
	Counts   SeverityCounts `json:"counts"`
}

// Add counts n more findings of severity sev.
func (g *RuleGroup) Add(sev string, n int) {
	switch sev {
	case SeverityCritical:
		g.Counts.Critical += n
	case SeverityHigh:
		g.Counts.High += n
	case SeverityMedium:
		g.Counts.Medium += n
	case SeverityLow:
		g.Counts.Low += n
	case SeverityInfo:
		g.Counts.Info += n
	}
	g.Count += n
	if SeverityRank(sev) > SeverityRank(g.Severity) {
		g.Severity = sev
	}
}

// RuleGroups tallies findings by rule, so both stores group ListFindingRules
// the same way.
type RuleGroups map[string]*RuleGroup

// Add counts n more findings of rule with severity sev.
func (m RuleGroups) Add(rule, sev string, n int) {
	g := m[rule]
	if g == nil {
		g = &RuleGroup{RuleID: rule}
		m[rule] = g
	}
	g.Add(sev, n)
}

// Sorted returns the groups in SortRuleGroups order (non-nil, possibly empty).
func (m RuleGroups) Sorted() []RuleGroup {
	out := make([]RuleGroup, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	SortRuleGroups(out)
	return out
}

// SortRuleGroups orders groups by highest severity, then count (both
// descending), then rule ID.
func SortRuleGroups(gs []RuleGroup) {
	slices.SortFunc(gs, func(a, b RuleGroup) int {
		if c := cmp.Compare(SeverityRank(b.Severity), SeverityRank(a.Severity)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
}
