package scan

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/vegasec/vega/app/ingest"
)

// archiveModTime is fixed: the archive's bytes depend on the tree only.
var archiveModTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// writeArchive streams the selected files of root as a tar.gz into w. Files
// are opened without following symlinks (a file replaced by a link after
// the selection is refused, not followed), and each must still have the size
// the selection saw. sent, when not nil, is told after every file.
func writeArchive(w io.Writer, root string, sel *ingest.Selection, sent func(files int, bytes int64)) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	buf := make([]byte, 256<<10)
	var total int64
	for i, f := range sel.Files {
		if err := addFile(tw, root, f, buf); err != nil {
			return err
		}
		total += f.Size
		if sent != nil {
			sent(i+1, total)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func addFile(tw *tar.Writer, root string, f ingest.SelectedFile, buf []byte) error {
	fh, err := os.OpenFile(filepath.Join(root, filepath.FromSlash(f.Path)), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	if !st.Mode().IsRegular() || st.Size() != f.Size {
		return fmt.Errorf("%s changed while it was being uploaded; run the scan again", f.Path)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Size: f.Size, Mode: 0o644, ModTime: archiveModTime}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(tw, io.LimitReader(fh, f.Size), buf)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	if n != f.Size {
		return fmt.Errorf("%s changed while it was being uploaded; run the scan again", f.Path)
	}
	return nil
}
