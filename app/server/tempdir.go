package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vegasec/vega/store"
)

// procTemp is this process's own temporary directory, data/tmp/proc-<id>:
// scan working copies, staged uploads and ingests, profile work. A process
// that dies (kill -9, OOM) cannot remove what it left there, so each one
// holds an exclusive flock on proc-<id>/.lock for its whole life, and every
// process that starts removes the proc-* directories whose lock it can take:
// their owner is gone. Several processes may share one data directory
// (workers on one machine); a live one's directory is never touched, because
// the kernel releases a lock only when its holder dies.
type procTemp struct {
	dir  string
	lock *os.File
}

const (
	procTempPrefix = "proc-"
	procTempLock   = ".lock"
	// procTempStaging names a process directory before it is locked; a
	// process killed in that instant leaves one empty directory behind.
	procTempStaging = "new-proc-"
)

// IsProcessTempLock says whether rel (slash- or OS-separated, relative to
// the temporary root, data/tmp) is a process's own lock file: it lives as
// long as its process does, so a check for files an operation left behind
// allows it.
func IsProcessTempLock(rel string) bool {
	dir, file := path.Split(filepath.ToSlash(rel))
	return file == procTempLock && strings.HasPrefix(dir, procTempPrefix) && strings.Count(dir, "/") == 1
}

// openProcTemp sweeps the directories of dead processes under root, then
// creates and locks this process's own. An empty dir (root not writable)
// leaves callers on os.TempDir, as before.
func openProcTemp(root string, log *slog.Logger) *procTemp {
	if err := os.MkdirAll(root, 0o700); err != nil {
		log.Warn("temporary directory", "dir", root, "err", err)
		return &procTemp{}
	}
	sweepDeadProcTemps(root, log)
	// The directory is made and locked under a name the sweep ignores, then
	// renamed into place: a proc-* directory is never seen unlocked, so a
	// worker starting at the same moment cannot sweep it away before its
	// lock is taken (the lock is on the file, so it survives the rename).
	id := strings.ToLower(store.NewID(""))
	staging := filepath.Join(root, procTempStaging+id)
	dir := filepath.Join(root, procTempPrefix+id)
	if err := os.Mkdir(staging, 0o700); err != nil {
		log.Warn("temporary directory", "dir", staging, "err", err)
		return &procTemp{}
	}
	f, err := lockDir(staging)
	if err == nil {
		err = os.Rename(staging, dir)
	}
	if err != nil {
		log.Warn("temporary directory", "dir", dir, "err", err)
		if f != nil {
			_ = f.Close()
		}
		_ = os.RemoveAll(staging)
		return &procTemp{}
	}
	return &procTemp{dir: dir, lock: f}
}

// close removes the directory and releases the lock (a clean stop).
func (p *procTemp) close() {
	if p.dir != "" {
		_ = os.RemoveAll(p.dir)
	}
	if p.lock != nil {
		_ = p.lock.Close()
	}
}

// sweepDeadProcTemps removes root/proc-* whose lock is free.
func sweepDeadProcTemps(root string, log *slog.Logger) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), procTempPrefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		f, err := lockDir(dir)
		if err != nil {
			continue // alive (or unreadable): not ours to remove
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("remove a dead process's temporary files", "dir", dir, "err", err)
		} else {
			log.Info("removed a dead process's temporary files", "dir", dir)
		}
		_ = f.Close()
	}
}

// lockDir takes a non-blocking exclusive flock on dir/.lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, procTempLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use", dir)
		}
		return nil, err
	}
	return f, nil
}
