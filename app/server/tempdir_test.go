package server

import (
	"log/slog"
	"os"
	"path/filepath"
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
