package findings

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/redact"
	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/store"
)

// Files reads one file of a repository snapshot (repos.Service does).
type Files interface {
	File(ctx context.Context, sc store.Scope, repoID, snapID, path string) (*repos.FileContent, error)
}

// UseFiles lets the service read snapshot files for Occurrences and Reveal.
// Without it those answer unavailable.
func (s *Service) UseFiles(f Files) { s.files = f }

// Occurrence paging bounds: a page of code excerpts, not a file dump.
const (
	DefaultOccurrenceLimit = 10
	MaxOccurrenceLimit     = 50
	DefaultContextLines    = 3
	MaxContextLines        = 20
)

// RevealReason marks a history entry that records a Reveal rather than a
// status change (from and to status are the same).
const RevealReason = "secret_revealed"

// OccurrenceQuery selects one page of a finding's occurrences.
type OccurrenceQuery struct {
	Offset int `json:"offset"`
	Limit  int `json:"limit"` // 0 means DefaultOccurrenceLimit
	// Context is the lines shown before and after each occurrence; nil
	// means DefaultContextLines.
	Context *int `json:"context,omitempty"`
}

func (q *OccurrenceQuery) normalize() error {
	problems := map[string]string{}
	if q.Offset < 0 {
		problems["offset"] = "must be 0 or more"
	}
	if q.Limit == 0 {
		q.Limit = DefaultOccurrenceLimit
	} else if q.Limit < 1 || q.Limit > MaxOccurrenceLimit {
		problems["limit"] = fmt.Sprintf("must be from 1 to %d", MaxOccurrenceLimit)
	}
	if q.Context == nil {
		n := DefaultContextLines
		q.Context = &n
	} else if *q.Context < 0 || *q.Context > MaxContextLines {
		problems["context"] = fmt.Sprintf("must be from 0 to %d", MaxContextLines)
	}
	if len(problems) > 0 {
		return apperr.Validation(problems)
	}
	return nil
}

// Span is a secret's place in Occurrence.Lines: 1-based file lines and code
// point columns, end inclusive.
type Span struct {
	StartLine   int `json:"start_line"`
	StartColumn int `json:"start_column"`
	EndLine     int `json:"end_line"`
	EndColumn   int `json:"end_column"`
	// other marks another finding's secret in the excerpt: masked even when
	// this finding's own are revealed (a reveal is logged per finding).
	other bool
}

// Occurrence is one location of a finding with the code around it.
type Occurrence struct {
	store.Location
	// Index is the location's position in the finding's locations.
	Index int `json:"index"`
	// FromLine is the file line of Lines[0].
	FromLine int      `json:"from_line"`
	Lines    []string `json:"lines"`
	// Spans are the secrets inside Lines: where the masks are when Masked,
	// where the revealed values are otherwise.
	Spans     []Span `json:"spans"`
	Masked    bool   `json:"masked"`
	Truncated bool   `json:"truncated,omitempty"`
	// Missing says why there are no lines: not_in_snapshot, binary or
	// out_of_range.
	Missing string `json:"missing,omitempty"`
}

// Occurrences is one page of a finding's occurrences.
type Occurrences struct {
	Items      []Occurrence `json:"items"`
	Total      int          `json:"total"`
	Offset     int          `json:"offset"`
	Limit      int          `json:"limit"`
	SnapshotID string       `json:"snapshot_id"`
}

// Occurrences answers a page of the finding's locations with their code,
// each file read once, secrets masked (docs/redaction.md, "Code views").
func (s *Service) Occurrences(ctx context.Context, sc store.Scope, id string, q OccurrenceQuery) (*Occurrences, error) {
	if err := q.normalize(); err != nil {
		return nil, err
	}
	f, err := s.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	return s.occurrences(ctx, sc, f, q, false)
}

// Reveal is Occurrences with the secrets shown, and records who revealed
// them in the finding's history first: a reveal that is not logged never
// happens.
func (s *Service) Reveal(ctx context.Context, sc store.Scope, actor, id string, q OccurrenceQuery) (*Occurrences, error) {
	if err := q.normalize(); err != nil {
		return nil, err
	}
	f, err := s.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	h := store.FindingHistory{ID: store.NewID(store.PrefixHistory), FindingID: f.ID, Actor: actor,
		FromStatus: f.Status, ToStatus: f.Status, Reason: RevealReason,
		Note: fmt.Sprintf("Revealed the secret in occurrences %d–%d", q.Offset+1, min(q.Offset+q.Limit, len(locationsOf(f)))), At: s.now().UTC()}
	if err := s.st.AppendFindingHistory(ctx, &h); err != nil {
		return nil, apperr.NotFoundAs("Finding", id, err)
	}
	return s.occurrences(ctx, sc, f, q, true)
}

// locationsOf is the finding's locations, or its primary place when an
// engine reported none.
func locationsOf(f *store.Finding) []store.Location {
	if len(f.Locations) > 0 {
		return f.Locations
	}
	if f.FilePath == "" {
		return nil
	}
	return []store.Location{{FilePath: f.FilePath, StartLine: f.StartLine, EndLine: f.EndLine}}
}

func (s *Service) occurrences(ctx context.Context, sc store.Scope, f *store.Finding, q OccurrenceQuery, reveal bool) (*Occurrences, error) {
	if s.files == nil {
		return nil, apperr.New(apperr.Unavailable, "Code excerpts are not available on this server")
	}
	scan, err := s.st.GetScan(ctx, sc, cmpOr(f.LastSeenScanID, f.ScanID))
	if err != nil {
		return nil, apperr.NotFoundAs("Scan", cmpOr(f.LastSeenScanID, f.ScanID), err)
	}
	locs := locationsOf(f)
	out := &Occurrences{Items: []Occurrence{}, Total: len(locs), Offset: q.Offset, Limit: q.Limit, SnapshotID: scan.SnapshotID}
	if q.Offset >= len(locs) {
		return out, nil
	}
	page := locs[q.Offset:min(len(locs), q.Offset+q.Limit)]
	files := map[string]*repos.FileContent{}
	missing := map[string]string{}
	for _, l := range page {
		if _, done := files[l.FilePath]; done || missing[l.FilePath] != "" {
			continue
		}
		c, err := s.files.File(ctx, sc, f.RepositoryID, scan.SnapshotID, l.FilePath)
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae) && ae.Code == apperr.NotFound:
			missing[l.FilePath] = "not_in_snapshot"
		case err != nil:
			return nil, err
		case c.Binary:
			missing[l.FilePath] = "binary"
		default:
			files[l.FilePath] = c
		}
	}
	neighbours, err := s.otherSecretsIn(ctx, sc, f, files)
	if err != nil {
		return nil, err
	}
	for i, l := range page {
		o := Occurrence{Location: l, Index: q.Offset + i, Lines: []string{}, Spans: []Span{}, Masked: !reveal}
		if m := missing[l.FilePath]; m != "" {
			o.Missing = m
			out.Items = append(out.Items, o)
			continue
		}
		c := files[l.FilePath]
		o.Truncated = c.Truncated
		lines := strings.Split(c.Content, "\n")
		if n := len(lines); n > 1 && lines[n-1] == "" {
			lines = lines[:n-1]
		}
		start, end := max(1, l.StartLine), max(l.StartLine, l.EndLine)
		if start > len(lines) {
			o.Missing = "out_of_range"
			out.Items = append(out.Items, o)
			continue
		}
		o.FromLine = max(1, start-*q.Context)
		to := min(len(lines), end+*q.Context)
		spans := append(secretSpansIn(locs, l.FilePath, false), secretSpansIn(neighbours, l.FilePath, true)...)
		sortSpans(spans)
		o.Lines, o.Spans = excerpt(lines, o.FromLine, to, spans, !reveal)
		out.Items = append(out.Items, o)
	}
	return out, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// otherSecretsIn is where the repository's other secrets findings lie in
// the excerpted files: an excerpt's context lines may hold a different key
// (two keys on adjacent lines of one config file), and every code view masks
// every secret (docs/redaction.md, "Code views"). As for the file browser's
// marks, at most maxMarkScan findings are read.
func (s *Service) otherSecretsIn(ctx context.Context, sc store.Scope, f *store.Finding, files map[string]*repos.FileContent) ([]store.Location, error) {
	if len(files) == 0 {
		return nil, nil
	}
	var out []store.Location
	_, err := s.eachFinding(ctx, sc, store.FindingFilter{RepositoryID: f.RepositoryID, Engines: []string{"secrets"}}, func(other *store.Finding) {
		if other.ID == f.ID {
			return
		}
		for _, l := range locationsOf(other) {
			if _, shown := files[l.FilePath]; shown && l.Secret {
				out = append(out, l)
			}
		}
	})
	return out, err
}

// secretSpansIn is every secret span of locs in one file: an excerpt may
// show another occurrence of the same secret next to its own. other marks
// them as another finding's.
func secretSpansIn(locs []store.Location, path string, other bool) []Span {
	var out []Span
	for _, l := range locs {
		if !l.Secret || l.FilePath != path || l.StartLine < 1 {
			continue
		}
		sp := Span{StartLine: l.StartLine, StartColumn: l.StartColumn, EndLine: max(l.StartLine, l.EndLine), EndColumn: l.EndColumn, other: other}
		if sp.StartColumn < 1 || sp.EndColumn < 1 {
			// No usable columns: the whole lines are the secret's.
			sp.StartColumn, sp.EndColumn = 1, 1<<30
		}
		out = append(out, sp)
	}
	sortSpans(out)
	return out
}

func sortSpans(spans []Span) {
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].StartLine != spans[j].StartLine {
			return spans[i].StartLine < spans[j].StartLine
		}
		return spans[i].StartColumn < spans[j].StartColumn
	})
}

// excerpt returns lines from..to (1-based, inclusive) and the secret spans
// inside them. With mask, each span is replaced by redact.Secret of its
// value on its first line and by "…" on the lines after, and the spans
// returned are where those masks now stand.
func excerpt(lines []string, from, to int, spans []Span, mask bool) ([]string, []Span) {
	out := make([]string, 0, to-from+1)
	var res []Span
	for n := from; n <= to; n++ {
		line := []rune(lines[n-1])
		var b strings.Builder
		pos := 0 // next rune of line to copy
		for _, sp := range spans {
			if n < sp.StartLine || n > sp.EndLine {
				continue
			}
			c1, c2 := 1, len(line)
			if n == sp.StartLine {
				c1 = sp.StartColumn
			}
			if n == sp.EndLine {
				c2 = min(len(line), sp.EndColumn)
			}
			if c1-1 < pos || c1 > c2 {
				continue // overlaps a span already handled, or empty here
			}
			b.WriteString(string(line[pos : c1-1]))
			col := len([]rune(b.String())) + 1
			text := string(line[c1-1 : c2])
			if mask || sp.other {
				text = "…"
				if n == sp.StartLine {
					text = redact.Secret(spanValue(lines, sp))
				}
			}
			b.WriteString(text)
			res = append(res, Span{StartLine: n, StartColumn: col, EndLine: n, EndColumn: col + len([]rune(text)) - 1})
			pos = c2
		}
		b.WriteString(string(line[pos:]))
		out = append(out, b.String())
	}
	if res == nil {
		res = []Span{}
	}
	return out, res
}

// spanValue is the whole secret a span covers, across its lines.
func spanValue(lines []string, sp Span) string {
	var parts []string
	for n := sp.StartLine; n <= sp.EndLine && n <= len(lines); n++ {
		r := []rune(lines[n-1])
		c1, c2 := 1, len(r)
		if n == sp.StartLine {
			c1 = min(sp.StartColumn, len(r)+1)
		}
		if n == sp.EndLine {
			c2 = min(len(r), sp.EndColumn)
		}
		if c1-1 <= c2 {
			parts = append(parts, string(r[c1-1:c2]))
		}
	}
	return strings.Join(parts, "\n")
}
