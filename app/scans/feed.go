package scans

import (
	"context"
	"errors"
	"io"
	"path"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// Events lists a scan's events after a seq, for a caller the scope lets see it.
func (s *Service) Events(ctx context.Context, sc store.Scope, id string, afterSeq int64, limit int) ([]store.Event, error) {
	if _, err := s.st.GetScan(ctx, sc, id); err != nil {
		return nil, apperr.NotFoundAs("Scan", id, err)
	}
	return s.st.ListEvents(ctx, id, afterSeq, limit)
}

// RepositoryEvents lists events of one of a repository's scans after a seq:
// of scanID when given (it must belong to the repository), else of the
// repository's latest scan (none yet: no events).
func (s *Service) RepositoryEvents(ctx context.Context, sc store.Scope, repoID, scanID string, afterSeq int64, limit int) ([]store.Event, error) {
	if scanID == "" {
		latest, _, err := s.ListForRepository(ctx, sc, repoID, nil, store.Page{Limit: 1})
		if err != nil || len(latest) == 0 {
			return nil, err
		}
		scanID = latest[0].ID
	} else if scan, err := s.Get(ctx, sc, scanID); err != nil {
		return nil, err
	} else if scan.RepositoryID != repoID {
		return nil, apperr.NotFoundf("Scan %s not found in repository %s", scanID, repoID)
	}
	return s.st.ListEvents(ctx, scanID, afterSeq, limit)
}

// Feed reads one scan's events for a live stream (SSE). Opening it checks
// that the caller may see the scan; its reads do not repeat the check, since
// the stream re-checks the caller's credential instead (docs/auth.md).
type Feed struct {
	s  *Service
	sc store.Scope
	id string
}

// OpenFeed opens the event feed of a scan the scope may see.
func (s *Service) OpenFeed(ctx context.Context, sc store.Scope, id string) (*Feed, error) {
	if _, err := s.Get(ctx, sc, id); err != nil {
		return nil, err
	}
	return &Feed{s: s, sc: sc, id: id}, nil
}

// Subscriber is a Notifier that can also wake listeners (*events.Broker).
type Subscriber interface {
	events.Notifier
	Subscribe(scanID string) (<-chan struct{}, func())
}

// Watch returns a channel signalled when this process appended new events
// of the scan, and a function that ends the watch. The channel is nil when
// the service has no broker: events written by other processes (external
// workers) are only found by polling anyway.
func (f *Feed) Watch() (<-chan struct{}, func()) {
	if sub, ok := f.s.opt.Events.(Subscriber); ok && sub != nil {
		return sub.Subscribe(f.id)
	}
	return nil, func() {}
}

// After returns up to limit events after seq, oldest first.
func (f *Feed) After(ctx context.Context, seq int64, limit int) ([]store.Event, error) {
	return f.s.st.ListEvents(ctx, f.id, seq, limit)
}

// Ended reports whether the stream has nothing more to wait for: the scan
// is terminal (or gone) and no event follows seq. A scan whose runner died
// between its last write and the terminal event must not keep a stream open.
func (f *Feed) Ended(ctx context.Context, seq int64) bool {
	if scan, err := f.s.st.GetScan(ctx, f.sc, f.id); err == nil && !scan.Terminal() {
		return false
	}
	more, err := f.s.st.ListEvents(ctx, f.id, seq, 1)
	return err == nil && len(more) == 0
}

// Artifact is an open artifact of a scan, ready to stream.
type Artifact struct {
	Name        string
	FileName    string // for Content-Disposition: <scan id>-<name>
	ContentType string
	Size        int64
	Body        io.ReadCloser
}

var artifactTypes = map[string]string{
	".jsonl": "application/x-ndjson",
	".json":  "application/json",
	".sarif": "application/sarif+json",
	".zip":   "application/zip",
}

// OpenArtifact opens the artifact called name of a scan the scope may see.
// Only names the scan lists are opened, so a name cannot reach another key.
func (s *Service) OpenArtifact(ctx context.Context, sc store.Scope, id, name string) (*Artifact, error) {
	scan, err := s.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	for _, a := range scan.Artifacts {
		if a.Name != name {
			continue
		}
		if s.opt.Blobs == nil {
			return nil, apperr.New(apperr.Unavailable, "Artifact storage is not configured")
		}
		obj, err := s.opt.Blobs.Open(ctx, a.Key)
		if errors.Is(err, blob.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		ct := artifactTypes[path.Ext(name)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		return &Artifact{Name: name, FileName: scan.ID + "-" + name, ContentType: ct, Size: obj.Size(), Body: obj}, nil
	}
	return nil, apperr.NotFoundf("Artifact %s of scan %s not found", name, scan.ID)
}
