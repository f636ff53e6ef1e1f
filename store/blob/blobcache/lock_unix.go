//go:build unix

package blobcache

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive, non-blocking lock on dir/.lock. The lock ends
// with the process, so a crash never leaves a directory locked.
func lockDir(dir string) (release func(), ok bool, err error) {
	f, err := os.OpenFile(dir+"/.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { f.Close() }, true, nil
}
