package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sync"
	"syscall"

	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
)

// treeCopy is the standalone runner's Unpacker: it copies the selected files
// of the working tree into the scan's private directory. A server unpacks a
// snapshot zip from its blob store (ingest.Unpack); here the snapshot is the
// caller's own tree on the same disk, so zipping it into a temporary blob
// store only to inflate it again would cost a tenth of a secrets scan
// (docs/benchmarks.md "vega scan") for nothing. Engines still get their own
// copy, never the working tree itself (an engine's sandbox may write there).
//
// Both sides are opened through os.Root: a directory of the tree swapped for
// a symlink after the selection cannot make the copy read outside the tree
// or write outside dest, and the file itself is opened with O_NOFOLLOW.
type treeCopy struct {
	root  string
	files []ingest.SelectedFile
}

func (c treeCopy) Unpack(ctx context.Context, _ *store.Snapshot, dest string) error {
	src, err := os.OpenRoot(c.root)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer dst.Close()
	made := map[string]bool{}
	for _, f := range c.files {
		if d := path.Dir(f.Path); d != "." && !made[d] {
			if err := dst.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
	}
	jobs := make(chan ingest.SelectedFile)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range max(runtime.GOMAXPROCS(0), 2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 128<<10)
			for f := range jobs {
				if err := copyOne(src, dst, f, buf); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
feed:
	for _, f := range c.files {
		select {
		case jobs <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// copyOne copies at most the size the selection saw: a file that grew since
// is scanned as it was selected, one that shrank or was replaced is an error.
func copyOne(src, dst *os.Root, f ingest.SelectedFile, buf []byte) error {
	in, err := src.OpenFile(f.Path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	defer in.Close()
	if st, err := in.Stat(); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("%s is no longer a regular file; run the scan again", f.Path)
	}
	out, err := dst.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(out, io.LimitReader(in, f.Size), buf)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", f.Path, err)
	}
	if n != f.Size {
		return errors.New(f.Path + " shrank while it was being scanned; run the scan again")
	}
	return nil
}
