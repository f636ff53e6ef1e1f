package server

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// A process that died leaves its proc-* directory unlocked: the next process
// removes it. A live process's directory (locked) is left alone, and its own
// is removed on close.
func TestProcTempSweepsOnlyDeadProcesses(t *testing.T) {
	root := t.TempDir()
	log := slog.New(slog.DiscardHandler)

	live := openProcTemp(root, log)
	dead := filepath.Join(root, "proc-dead")
	if err := os.MkdirAll(filepath.Join(dead, "vega-scan-1", "src"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, ".lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "not-a-proc-dir")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(live.dir, "staged.zip"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	next := openProcTemp(root, log)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("the dead process's directory is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(live.dir, "staged.zip")); err != nil {
		t.Fatalf("a live process's files were removed: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a directory that is not a process's was removed: %v", err)
	}
	if next.dir == "" || next.dir == live.dir {
		t.Fatalf("own directory %q (live %q)", next.dir, live.dir)
	}
	live.close()
	next.close()
	if left, _ := os.ReadDir(root); len(left) != 1 {
		t.Fatalf("after both closed: %v", left)
	}
}

// Processes that start together on one data directory (workers) each keep a
// locked directory of their own: one's sweep never removes another's new
// directory in the moment before its lock is taken.
func TestProcTempConcurrentStartsKeepTheirDirectories(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for round := 0; round < 20; round++ {
		root := t.TempDir()
		const n = 8
		got := make([]*procTemp, n)
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() { defer wg.Done(); got[i] = openProcTemp(root, log) }()
		}
		wg.Wait()
		for i, p := range got {
			if p.dir == "" || p.lock == nil {
				t.Fatalf("round %d: process %d has no locked directory (%q)", round, i, p.dir)
			}
			if _, err := os.Stat(p.dir); err != nil {
				t.Fatalf("round %d: process %d lost its directory: %v", round, i, err)
			}
		}
		for _, p := range got {
			p.close()
		}
	}
}
