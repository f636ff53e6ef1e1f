package scan

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vegasec/vega/app/export"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/runner"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/server"
	"github.com/vegasec/vega/store"
)

// standaloneWorker names the claim of the one scan a standalone run makes.
const standaloneWorker = "wrk_vega_scan_cli"

// runStandalone scans sel in this process: a temporary data directory holds
// a bbolt store and the blobs (artifacts); the real runner
// (app/server.NewScanStack) runs the engines on a private copy of the
// selected files (treeCopy). The directory is removed afterwards, whatever
// happened.
func runStandalone(ctx context.Context, o *options, sys IO, root string, sel *ingest.Selection, prog *progress) (*result, error) {
	tmp, err := os.MkdirTemp("", "vega-scan-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	level := slog.LevelError
	if o.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(sys.Stderr, &slog.HandlerOptions{Level: level}))
	env, err := server.OpenStandalone(ctx, filepath.Join(tmp, "data"), sys.Getenv, log, sys.Version)
	if err != nil {
		return nil, err
	}
	defer env.Close()
	stack, err := server.NewScanStack(env, false, server.WithUnpacker(treeCopy{root: root, files: sel.Files}))
	if err != nil {
		return nil, err
	}
	defer stack.Close()

	repoName := filepath.Base(root)
	repo, snap, owner, err := standaloneRepository(ctx, env, repoName, sel)
	if err != nil {
		return nil, err
	}
	scan, err := stack.Scans.Create(ctx, store.OwnedBy(owner), owner, repo.ID, scans.CreateInput{Engines: o.engines})
	if err != nil {
		return nil, err
	}
	prog.line("scanning with %s", strings.Join(scan.Engines, ", "))
	if _, err := stack.Scans.Claim(ctx, standaloneWorker); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := stack.Runner.Run(ctx, scan.ID); err != nil {
		return nil, err
	}
	done, err := env.Store.GetScan(ctx, store.System(), scan.ID)
	if err != nil {
		return nil, err
	}
	if done.Status != store.ScanCompleted {
		msg := string(done.Status)
		if done.Error != nil {
			msg += ": " + done.Error.Message
		}
		return nil, fmt.Errorf("the scan did not complete (%s)", msg)
	}
	prog.line("scanned %d files in %s", snap.FileCount, time.Since(start).Round(time.Millisecond))
	findings, err := runner.ScanFindings(ctx, env.Store, store.OwnedBy(owner), scan.ID)
	if err != nil {
		return nil, err
	}
	return &result{findings: findings, meta: export.Meta{ToolVersion: sys.Version, ScanID: scan.ID,
		RepositoryID: repo.ID, RepositoryName: repoName, ScanStatus: done.Status}}, nil
}

// standaloneRepository makes the owner, project, repository and snapshot a
// scan needs, in the throwaway store. The snapshot is a record of the
// selection only: treeCopy, not a blob, gives the runner its files.
func standaloneRepository(ctx context.Context, env *server.Env, name string, sel *ingest.Selection) (*store.Repository, *store.Snapshot, string, error) {
	now := time.Now().UTC()
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "vega-scan@localhost", DisplayName: "vega scan",
		Groups: []string{store.GroupUser}, CreatedAt: now}
	if err := env.Store.CreateUser(ctx, u); err != nil {
		return nil, nil, "", err
	}
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: name, CreatedAt: now, UpdatedAt: now}
	if err := env.Store.CreateProject(ctx, p); err != nil {
		return nil, nil, "", err
	}
	repo := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: name,
		SourceType: store.SourceArchive, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	if err := env.Store.CreateRepository(ctx, repo); err != nil {
		return nil, nil, "", err
	}
	snap := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: repo.ID, OwnerUserID: u.ID, CreatedAt: now,
		FileCount: len(sel.Files), TotalBytes: sel.TotalBytes, Skipped: sel.Skipped}
	if err := env.Store.CreateSnapshot(ctx, snap); err != nil {
		return nil, nil, "", err
	}
	if _, err := env.Store.UpdateRepository(ctx, store.System(), repo.ID, func(r *store.Repository) error {
		r.LatestSnapshotID = snap.ID
		return nil
	}); err != nil {
		return nil, nil, "", err
	}
	return repo, snap, u.ID, nil
}
