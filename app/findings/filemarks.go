package findings

import (
	"context"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
)

// maxMarkScan bounds how many of a repository's findings one file lookup
// reads (the size of a bulk triage): past it the answer says Complete false.
const maxMarkScan = 10_000

// FileMark is one place a finding points at in one file: the file browser
// marks its lines and masks its secret span.
type FileMark struct {
	FindingID string `json:"finding_id"`
	Title     string `json:"title"`
	Severity  string `json:"severity"`
	Status    string `json:"status"`
	store.Location
}

// FileMarks is every finding place in one file of a repository.
type FileMarks struct {
	Path  string     `json:"path"`
	Items []FileMark `json:"items"`
	// Complete is false when the repository has more findings than one
	// lookup reads (maxMarkScan): marks, and masks, may be missing.
	Complete bool `json:"complete"`
}

// InFile lists the places of a repository's findings in one file: the
// primary location and every occurrence, so a secret copied into the file is
// masked there even when its finding is listed under another path.
func (s *Service) InFile(ctx context.Context, sc store.Scope, repoID, path string) (*FileMarks, error) {
	// The file endpoint's rules, so a path it serves is a path marked here.
	clean, err := ingest.CleanRequestPath(path)
	if err != nil {
		return nil, err
	}
	if clean == "" {
		return nil, apperr.Validation(map[string]string{"path": "must be a file path inside the repository"})
	}
	if _, err := s.st.GetRepository(ctx, sc, repoID); err != nil {
		return nil, apperr.NotFoundAs("Repository", repoID, err)
	}
	out := &FileMarks{Path: clean, Items: []FileMark{}}
	out.Complete, err = s.eachFinding(ctx, sc, store.FindingFilter{RepositoryID: repoID}, func(f *store.Finding) {
		out.Items = append(out.Items, marksOf(f, clean)...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachFinding calls fn with every finding the filter matches, a page at a
// time, up to maxMarkScan of them; complete is false when it stopped there.
func (s *Service) eachFinding(ctx context.Context, sc store.Scope, filter store.FindingFilter, fn func(*store.Finding)) (complete bool, err error) {
	p := store.Page{Limit: store.MaxLimit}
	for read := 0; ; {
		page, next, err := s.st.ListFindings(ctx, sc, filter, p)
		if err != nil {
			return false, err
		}
		for i := range page {
			fn(&page[i])
		}
		read += len(page)
		if next == "" {
			return true, nil
		}
		if read >= maxMarkScan {
			return false, nil
		}
		p.Cursor = next
	}
}

func marksOf(f *store.Finding, path string) []FileMark {
	var out []FileMark
	for _, l := range locationsOf(f) {
		if l.FilePath == path {
			out = append(out, FileMark{FindingID: f.ID, Title: f.Title, Severity: f.Severity, Status: f.Status, Location: l})
		}
	}
	if len(f.Locations) > 0 && f.FilePath == path && len(out) == 0 {
		out = append(out, FileMark{FindingID: f.ID, Title: f.Title, Severity: f.Severity, Status: f.Status,
			Location: store.Location{FilePath: f.FilePath, StartLine: f.StartLine, EndLine: f.EndLine}})
	}
	return out
}
