package runner

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/export"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// maxDebugBundle caps what the debug bundle collects; engines write prompts
// and raw model output there, which is useful but unbounded.
const maxDebugBundle = 64 << 20

// Artifact names under scans/<scan>/ (docs/architecture.md, "A scan's life").
const (
	ArtifactEvents  = "events.jsonl"
	ArtifactSummary = "summary.json"
	ArtifactReport  = "report.json"
	ArtifactSARIF   = "report.sarif"
	ArtifactDebug   = "debug-bundle.zip"
)

// Summary is summary.json: timing, stages, counts, usage and status.
type Summary struct {
	SchemaVersion int                  `json:"schema_version"`
	ScanID        string               `json:"scan_id"`
	RepositoryID  string               `json:"repository_id"`
	SnapshotID    string               `json:"snapshot_id"`
	Status        store.ScanStatus     `json:"status"`
	StopReason    store.StopReason     `json:"stop_reason,omitempty"`
	Error         *store.ScanError     `json:"error"`
	Engines       []string             `json:"engines"`
	Paths         []string             `json:"paths"`
	Attempt       int                  `json:"attempt"`
	FileCount     int                  `json:"file_count"`
	Stages        []store.StageResult  `json:"stages"`
	Progress      store.ScanProgress   `json:"progress"`
	Usage         store.Usage          `json:"usage"`
	FindingCounts store.SeverityCounts `json:"finding_counts"`
	CreatedAt     time.Time            `json:"created_at"`
	StartedAt     *time.Time           `json:"started_at"`
	FinishedAt    *time.Time           `json:"finished_at"`
	DurationMS    int64                `json:"duration_ms"`
}

// uploadArtifacts writes every artifact of the finished scan and records
// them on it. A failed upload is a failed "artifacts" stage, never silent.
func (x *run) uploadArtifacts(scan *store.Scan) {
	cfg := x.r.cfg
	ctx := x.bg
	var arts []store.Artifact
	var failed []string
	put := func(name string, write func(w io.Writer) error) {
		a, err := x.putArtifact(ctx, name, write)
		if err != nil {
			cfg.Logger.Error("upload artifact", "scan_id", scan.ID, "artifact", name, "err", err)
			if apperr.IsDiskFull(err) {
				name += " (no space left on disk)"
			}
			failed = append(failed, name)
			return
		}
		arts = append(arts, a)
	}
	put(ArtifactEvents, func(w io.Writer) error { return x.writeEvents(ctx, w) })
	fs, ferr := x.scanFindings(ctx)
	if ferr != nil {
		cfg.Logger.Error("list scan findings", "scan_id", scan.ID, "err", ferr)
		failed = append(failed, ArtifactReport)
	} else {
		meta := x.exportMeta(ctx, scan)
		put(ArtifactReport, func(w io.Writer) error { return export.JSON(w, fs, meta) })
		put(ArtifactSARIF, func(w io.Writer) error { return export.SARIF(w, fs, meta) })
	}
	if x.tmp != "" {
		// The runner's own record goes in every bundle, so even a scan whose
		// engines wrote nothing has something to diagnose from.
		x.writeRunnerRecord(filepath.Join(x.tmp, "artifacts", "runner"), scan)
	}
	if x.tmp != "" && dirHasFiles(filepath.Join(x.tmp, "artifacts")) {
		put(ArtifactDebug, func(w io.Writer) error { return zipDir(w, filepath.Join(x.tmp, "artifacts"), maxDebugBundle) })
	}
	// summary.json last, so it can say how the other uploads went.
	stage := store.StageResult{Engine: "runner", Stage: "artifacts", Status: store.StageSucceeded}
	if len(failed) > 0 {
		stage.Status, stage.Message = store.StageFailed, "not stored: "+joinNames(failed)
	}
	summary := Summary{SchemaVersion: 1, ScanID: scan.ID, RepositoryID: scan.RepositoryID, SnapshotID: scan.SnapshotID,
		Status: scan.Status, StopReason: scan.StopReason, Error: scan.Error, Engines: scan.Engines, Paths: scan.Paths,
		Attempt: scan.Attempt, FileCount: x.fileCnt, Stages: append(append([]store.StageResult{}, scan.Stages...), stage),
		Progress: scan.Progress, Usage: scan.Usage, FindingCounts: scan.FindingCounts, CreatedAt: scan.CreatedAt,
		StartedAt: scan.StartedAt, FinishedAt: scan.FinishedAt}
	if scan.StartedAt != nil && scan.FinishedAt != nil {
		summary.DurationMS = scan.FinishedAt.Sub(*scan.StartedAt).Milliseconds()
	}
	put(ArtifactSummary, func(w io.Writer) error { return writeJSON(w, summary) })
	if len(failed) > 0 {
		stage.Status, stage.Message = "failed", "not stored: "+joinNames(failed)
	}
	_, err := cfg.Store.UpdateScan(ctx, store.System(), scan.ID, func(s *store.Scan) error {
		s.Artifacts = arts
		s.Stages = append(s.Stages, stage)
		return nil
	})
	if err != nil {
		cfg.Logger.Error("record artifacts", "scan_id", scan.ID, "err", err)
	}
}

// exportMeta describes the scan for the report formats.
func (x *run) exportMeta(ctx context.Context, scan *store.Scan) export.Meta {
	m := export.Meta{ToolVersion: x.r.cfg.Version, ScanID: scan.ID, RepositoryID: scan.RepositoryID, ScanStatus: scan.Status}
	if repo, err := x.r.cfg.Store.GetRepository(ctx, store.System(), scan.RepositoryID); err == nil {
		m.RepositoryName = repo.Name
		// Only a clean absolute URL, never credentials someone put in it.
		if u, err := url.Parse(repo.GitURL); err == nil && u.IsAbs() && u.User == nil {
			m.RepositoryURI = u.String()
		}
	}
	if snap, err := x.r.cfg.Store.GetSnapshot(ctx, store.System(), scan.SnapshotID); err == nil {
		m.CommitSHA = snap.CommitSHA
	}
	return m
}

func joinNames(ns []string) string {
	out := ""
	for i, n := range ns {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// putArtifact spools the artifact to a temporary file, then stores it, so a
// writer error never leaves half an artifact in the blob store.
func (x *run) putArtifact(ctx context.Context, name string, write func(w io.Writer) error) (store.Artifact, error) {
	f, err := os.CreateTemp(x.tmpOrDefault(), "artifact-*")
	if err != nil {
		return store.Artifact{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := write(bw); err != nil {
		return store.Artifact{}, err
	}
	if err := bw.Flush(); err != nil {
		return store.Artifact{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return store.Artifact{}, err
	}
	key := blob.ArtifactKey(x.scan.ID, name)
	n, err := x.r.cfg.Blobs.Put(ctx, key, f)
	if err != nil {
		return store.Artifact{}, err
	}
	return store.Artifact{Name: name, Size: n, Key: key}, nil
}

func (x *run) tmpOrDefault() string {
	if x.tmp != "" {
		return x.tmp
	}
	return x.r.cfg.TempDir
}

// writeEvents streams every event of the scan as JSON lines, in seq order.
func (x *run) writeEvents(ctx context.Context, w io.Writer) error {
	enc := json.NewEncoder(w)
	var after int64
	for {
		evs, err := x.r.cfg.Store.ListEvents(ctx, x.scan.ID, after, store.MaxLimit)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				return err
			}
			after = ev.Seq
		}
		if len(evs) < store.MaxLimit {
			return nil
		}
	}
}

func (x *run) scanFindings(ctx context.Context) ([]store.Finding, error) {
	return ScanFindings(ctx, x.r.cfg.Store, store.System(), x.scan.ID)
}

// ScanFindings lists every finding a scan reported (all pages, never nil):
// the report artifacts are built from it, and so is the standalone CLI's output.
func ScanFindings(ctx context.Context, st store.Store, sc store.Scope, scanID string) ([]store.Finding, error) {
	out := []store.Finding{}
	page := store.Page{Limit: store.MaxLimit}
	for {
		items, next, err := st.ListFindings(ctx, sc, store.FindingFilter{ScanID: scanID}, page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		page.Cursor = next
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func dirHasFiles(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// zipDir zips the regular files under dir (symlinks and special files are
// skipped: engines run next to hostile code) up to max bytes in total.
func zipDir(w io.Writer, dir string, max int64) error {
	zw := zip.NewWriter(w)
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil || total+info.Size() > max {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		zf, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		n, err := io.Copy(zf, io.LimitReader(f, max-total))
		total += n
		return err
	})
	if err != nil {
		return err
	}
	return zw.Close()
}

// writeRunnerRecord writes scan.json (status, stages, error, engines, scope,
// attempt, timing; no findings) into dir for the debug bundle.
func (x *run) writeRunnerRecord(dir string, scan *store.Scan) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		x.r.cfg.Logger.Warn("debug bundle", "scan_id", scan.ID, "err", err)
		return
	}
	rec := map[string]any{"scan_id": scan.ID, "status": scan.Status, "stop_reason": scan.StopReason, "error": scan.Error,
		"engines": scan.Engines, "paths": scan.Paths, "attempt": scan.Attempt, "stages": scan.Stages, "progress": scan.Progress,
		"usage": scan.Usage, "claimed_by": scan.ClaimedBy, "created_at": scan.CreatedAt, "started_at": scan.StartedAt,
		"finished_at": scan.FinishedAt, "runner_version": x.r.cfg.Version}
	f, err := os.OpenFile(filepath.Join(dir, "scan.json"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		x.r.cfg.Logger.Warn("debug bundle", "scan_id", scan.ID, "err", err)
		return
	}
	defer f.Close()
	if err := writeJSON(f, rec); err != nil {
		x.r.cfg.Logger.Warn("debug bundle", "scan_id", scan.ID, "err", err)
	}
}
