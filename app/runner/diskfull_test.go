package runner_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/runner"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// diskFullAfterUnpack unpacks the snapshot for real, then fails writing one
// more file the way the file system does when the disk is full.
func diskFullAfterUnpack(blobs runner.Config) runner.Unpacker {
	real := runner.SnapshotUnpacker(blobs.Blobs, ingest.DefaultLimits())
	return runner.UnpackFunc(func(ctx context.Context, snap *store.Snapshot, dest string) error {
		if err := real.Unpack(ctx, snap, dest); err != nil {
			return err
		}
		p := filepath.Join(dest, "vendor.bin")
		if err := os.WriteFile(p, make([]byte, 4096), 0o600); err != nil {
			return err
		}
		return &fs.PathError{Op: "write", Path: p, Err: syscall.ENOSPC}
	})
}

// A full disk while the snapshot is unpacked, or while an engine writes its
// files, fails the scan with storage_full in its scan_failed event, and the
// scan's directory is removed. On bolt and Postgres.
func TestDiskFullFailsTheScanAndRemovesItsDirectory(t *testing.T) {
	scantest.Stores(t, func(t *testing.T, open func(testing.TB) *scantest.Env) {
		t.Run("unpack", func(t *testing.T) {
			h := newHarnessOn(t, open, map[string]string{"src/main.go": "package main\n"})
			cfg := runner.Config{Store: h.env.Store, Scans: h.svc, Blobs: h.env.Blobs,
				Engines: map[string]engine.Engine{secrets.Name: secrets.New()}, Heartbeat: 50 * time.Millisecond,
				CancelPoll: 10 * time.Millisecond, TempDir: h.tmp, Events: h.broker, Version: "test"}
			cfg.Unpacker = diskFullAfterUnpack(cfg)
			r, err := runner.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			h.run = r
			s := h.scan(scans.CreateInput{})
			wantStorageFull(t, h, s, "the snapshot could not be unpacked")
		})
		t.Run("engine", func(t *testing.T) {
			eng := &scripted{name: "codex", err: &fs.PathError{Op: "write", Path: "/var/lib/vega/tmp/vega-scan-1/artifacts/codex/out.json", Err: syscall.ENOSPC}}
			h := newHarnessOn(t, open, map[string]string{"src/main.go": "package main\n"}, eng)
			s := h.scan(scans.CreateInput{Engines: []string{"codex", "secrets"}})
			wantStorageFull(t, h, s, "engine codex could not write its files")
			for _, st := range s.Stages {
				if st.Engine == "secrets" {
					t.Fatalf("an engine ran after the disk filled up: %+v", s.Stages)
				}
			}
		})
	})
}

func wantStorageFull(t *testing.T, h *harness, s *store.Scan, what string) {
	t.Helper()
	if s.Status != store.ScanFailed || s.Error == nil || s.Error.Code != store.ScanErrStorageFull || !strings.Contains(s.Error.Message, what) {
		t.Fatalf("want a failed scan with storage_full (%q), got %+v %+v", what, s.Status, s.Error)
	}
	evs := h.events(s.ID)
	last := evs[len(evs)-1]
	var p store.ScanFailedPayload
	if err := json.Unmarshal(last.Payload, &p); err != nil || last.Kind != store.EventScanFailed || p.Code != store.ScanErrStorageFull {
		t.Fatalf("last event %s %s", last.Kind, last.Payload)
	}
	for _, ev := range evs {
		if strings.Contains(string(ev.Payload), h.tmp) || strings.Contains(string(ev.Payload), "/var/lib/vega") {
			t.Fatalf("an event shows a path: %s", ev.Payload)
		}
	}
	h.tempDirEmpty()
}
