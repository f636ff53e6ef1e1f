package ingest

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// Archive formats, as detected from magic bytes.
const (
	FormatZip    = "zip"
	FormatTar    = "tar"
	FormatTarGz  = "tar.gz"
	FormatTarZst = "tar.zst"
)

// Extracted describes a finished extraction.
type Extracted struct {
	Format     string
	Files      int
	Dirs       int
	TotalBytes int64
	// Skipped counts entries deliberately not materialised: links (symbolic
	// and hard), special files, and ignored entries (__MACOSX/). Callers copy
	// it into the snapshot before BuildSnapshot, which adds its own counts.
	Skipped store.SkippedCounts
	// StrippedPrefix is the wrapping top-level folder that was removed, if any.
	StrippedPrefix string
}

// ExtractArchive unpacks a zip, tar, tar.gz or tar.zst archive (detected by
// magic bytes, never by name) into destDir, which must be missing or empty.
// Every entry is validated before the first byte is written; sizes are
// counted while decompressing. On any error destDir is left removed (or empty
// when it existed before) and the error is an *apperr.Error with code
// archive_rejected for anything wrong with the archive.
func ExtractArchive(ctx context.Context, archivePath, destDir string, lim Limits) (*Extracted, error) {
	f, err := os.Open(archivePath)
	if err != nil {
		return nil, fmt.Errorf("ingest: open archive: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ingest: stat archive: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("ingest: archive is not a regular file")
	}
	if lim.MaxSourceBytes > 0 && st.Size() > lim.MaxSourceBytes {
		return nil, apperr.Archive(ReasonTooLarge, "The archive is larger than %d bytes", lim.MaxSourceBytes)
	}
	var magic [512]byte
	n, err := f.ReadAt(magic[:], 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("ingest: read archive: %w", err)
	}
	switch format := detectFormat(magic[:n]); format {
	case FormatZip:
		return extractZip(ctx, f, st.Size(), destDir, lim, true)
	case FormatTar, FormatTarGz, FormatTarZst:
		return extractTar(ctx, f, format, destDir, lim)
	default:
		return nil, apperr.Archive(ReasonUnsupportedFormat, "The upload is not a zip, tar, tar.gz or tar.zst archive")
	}
}

var (
	zipMagic      = []byte("PK\x03\x04")
	zipEmptyMagic = []byte("PK\x05\x06")
	gzipMagic     = []byte{0x1f, 0x8b}
	zstdMagic     = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// detectFormat names the container from its first bytes. A compressed stream
// is assumed to hold a tar; extractTar checks that once decompressed.
func detectFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(head, zipMagic), bytes.HasPrefix(head, zipEmptyMagic):
		return FormatZip
	case bytes.HasPrefix(head, gzipMagic):
		return FormatTarGz
	case bytes.HasPrefix(head, zstdMagic):
		return FormatTarZst
	case isTarHeader(head):
		return FormatTar
	}
	return ""
}

// isTarHeader recognises POSIX ("ustar\x0000") and GNU ("ustar  \x00") headers.
func isTarHeader(block []byte) bool {
	return len(block) >= 512 && bytes.Equal(block[257:262], []byte("ustar"))
}

// --- zip -------------------------------------------------------------------

// newZipReader opens a zip from random access storage, with the faster
// klauspost inflater. Insecure names are not an error here: makePlan judges
// every name itself with one policy for all formats.
func newZipReader(ra io.ReaderAt, size int64) (*zip.Reader, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, corrupt(err)
	}
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return kflate.NewReader(r) })
	return zr, nil
}

func zipKind(f *zip.File) entryKind {
	mode := f.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return kindLink
	case mode.IsDir():
		return kindDir
	case mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeIrregular) != 0:
		return kindSpecial
	}
	return kindFile
}

func extractZip(ctx context.Context, ra io.ReaderAt, size int64, destDir string, lim Limits, stripWrapper bool) (*Extracted, error) {
	if err := checkZipEntryCount(ra, size, lim); err != nil {
		return nil, err
	}
	zr, err := newZipReader(ra, size)
	if err != nil {
		return nil, err
	}
	if lim.MaxEntries > 0 && len(zr.File) > lim.MaxEntries {
		return nil, tooManyEntries(lim)
	}
	entries := make([]rawEntry, len(zr.File))
	for i, f := range zr.File {
		entries[i] = rawEntry{name: f.Name, kind: zipKind(f), size: int64(min(f.UncompressedSize64, 1<<62))}
		if entries[i].kind == kindFile {
			if f.Flags&0x1 != 0 {
				return nil, apperr.Archive(ReasonUnsupportedFormat, "The archive contains encrypted entries")
			}
			if f.Method != zip.Store && f.Method != zip.Deflate {
				return nil, apperr.Archive(ReasonUnsupportedFormat, "The archive uses an unsupported compression method")
			}
		}
	}
	p, err := makePlan(entries, lim, stripWrapper)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return writeTree(ctx, destDir, lim, FormatZip, p, func(w *treeWriter, out *Extracted) error {
		return writeZipEntries(zr, p, w, out, cancel)
	})
}

// writeTree writes a planned archive into destDir with write and reports the
// result; the zip and tar extractors differ only in how they write entries.
// A failed write removes what was written.
func writeTree(ctx context.Context, destDir string, lim Limits, format string, p *plan, write func(*treeWriter, *Extracted) error) (*Extracted, error) {
	w, err := newTreeWriter(ctx, destDir, lim)
	if err != nil {
		return nil, err
	}
	out := &Extracted{Format: format, Skipped: p.skipped, StrippedPrefix: p.strippedPrefix}
	if err := write(w, out); err != nil {
		w.abort()
		return nil, classify(err)
	}
	out.TotalBytes = w.total.Load()
	return out, w.close()
}

// writeZipEntries creates every directory first, then inflates files with a
// few goroutines: zip entries are independent and random access, and on big
// trees the time goes into file creation, which overlaps well.
func writeZipEntries(zr *zip.Reader, p *plan, w *treeWriter, out *Extracted, cancel context.CancelFunc) error {
	var files []int
	for i := range zr.File {
		isFile, err := makeDirsFor(p, i, w, out)
		if err != nil {
			return err
		}
		if isFile {
			files = append(files, i)
		}
	}
	workers := max(1, min(extractWorkers(), len(files)))
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fw := w.newFileWriter()
			defer fw.close()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(files) {
					return
				}
				i := files[k]
				if err := writeZipFile(fw, zr.File[i], p.names[i]); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	out.Files = len(files)
	return nil
}

func writeZipFile(fw *fileWriter, f *zip.File, name string) error {
	rc, err := f.Open()
	if err != nil {
		return sourceError{err}
	}
	defer rc.Close()
	_, err = fw.writeFile(name, rc)
	return err
}

// extractWorkers is how many files are written at once.
func extractWorkers() int { return min(runtime.GOMAXPROCS(0)+1, 4) }

// --- tar -------------------------------------------------------------------

// tarKind maps a tar type flag. GNU sparse files are read as regular files:
// archive/tar expands their holes, and the expanded bytes are what we count.
func tarKind(h *tar.Header) entryKind {
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse, tar.TypeCont:
		return kindFile
	case tar.TypeDir:
		return kindDir
	case tar.TypeSymlink, tar.TypeLink:
		return kindLink
	case tar.TypeXGlobalHeader:
		return kindMeta // `git archive` puts the commit id here
	}
	return kindSpecial
}

// tarStream is one decompressed pass over a tar archive.
type tarStream struct {
	tr      *tar.Reader
	closeFn func()
}

// openTar decompresses from the start of f. The decompressed stream is capped
// so a compression bomb made of padding or junk cannot run unbounded.
func openTar(f *os.File, format string, lim Limits) (*tarStream, error) {
	var r io.Reader = io.NewSectionReader(f, 0, 1<<62)
	closeFn := func() {}
	if format == FormatTar {
		// An uncompressed tar is bounded by its file size and its magic was
		// checked by detectFormat; a seekable reader lets archive/tar skip
		// file data instead of reading it during the validation pass.
		return &tarStream{tr: tar.NewReader(r), closeFn: closeFn}, nil
	}
	switch format {
	case FormatTarGz:
		gz, err := kgzip.NewReader(bufio.NewReaderSize(r, copyBufferSize))
		if err != nil {
			return nil, corrupt(err)
		}
		r, closeFn = gz, func() { gz.Close() }
	case FormatTarZst:
		zr, err := zstd.NewReader(bufio.NewReaderSize(r, copyBufferSize),
			zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20), zstd.WithDecoderMaxWindow(64<<20))
		if err != nil {
			return nil, corrupt(err)
		}
		r, closeFn = zr, zr.Close
	}
	br := bufio.NewReaderSize(&cappedReader{r: r, left: streamCap(lim), err: totalTooLarge(lim)}, copyBufferSize)
	head, err := br.Peek(512)
	if err != nil {
		closeFn()
		if ae := asAppErr(err); ae != nil {
			return nil, ae
		}
		return nil, corrupt(err)
	}
	if !isTarHeader(head) {
		closeFn()
		return nil, apperr.Archive(ReasonUnsupportedFormat, "The compressed upload does not contain a tar archive")
	}
	return &tarStream{tr: tar.NewReader(br), closeFn: closeFn}, nil
}

// streamCap bounds the decompressed tar stream: the file data allowed plus
// generous room for headers (PAX records may be up to 1 MiB each).
func streamCap(lim Limits) int64 {
	if lim.MaxTotalBytes <= 0 || lim.MaxEntries <= 0 {
		return 1<<63 - 1
	}
	return lim.MaxTotalBytes + int64(lim.MaxEntries)*4096 + 64<<20
}

// cappedReader fails with err once more than left bytes were asked for.
type cappedReader struct {
	r    io.Reader
	left int64
	err  error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func asAppErr(err error) *apperr.Error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// next reads the next header; io.EOF at the end.
func (s *tarStream) next() (*tar.Header, error) {
	h, err := s.tr.Next()
	switch {
	case err == nil, errors.Is(err, tar.ErrInsecurePath):
		return h, nil
	case err == io.EOF:
		return nil, io.EOF
	}
	if ae := asAppErr(err); ae != nil {
		return nil, ae
	}
	return nil, corrupt(err)
}

// extractTar makes two passes: the first reads every header (decompressing and
// skipping data) so the whole archive is validated before anything is written,
// the second writes. A tar cannot be validated up front any other way, since
// its headers are spread through the stream.
func extractTar(ctx context.Context, f *os.File, format, destDir string, lim Limits) (*Extracted, error) {
	s, err := openTar(f, format, lim)
	if err != nil {
		return nil, err
	}
	var entries []rawEntry
	for {
		if err := ctx.Err(); err != nil {
			s.closeFn()
			return nil, err
		}
		h, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.closeFn()
			return nil, err
		}
		entries = append(entries, rawEntry{name: h.Name, kind: tarKind(h), size: h.Size})
		if lim.MaxEntries > 0 && len(entries) > lim.MaxEntries {
			s.closeFn()
			return nil, tooManyEntries(lim)
		}
	}
	s.closeFn()
	p, err := makePlan(entries, lim, true)
	if err != nil {
		return nil, err
	}
	if s, err = openTar(f, format, lim); err != nil {
		return nil, err
	}
	defer s.closeFn()
	return writeTree(ctx, destDir, lim, format, p, func(w *treeWriter, out *Extracted) error {
		return writeTarEntries(s, entries, p, w, out)
	})
}

func writeTarEntries(s *tarStream, entries []rawEntry, p *plan, w *treeWriter, out *Extracted) error {
	for i := range entries {
		h, err := s.next()
		if err != nil {
			if err == io.EOF {
				err = corrupt(io.ErrUnexpectedEOF)
			}
			return err
		}
		if h.Name != entries[i].name || tarKind(h) != entries[i].kind {
			return corrupt(errors.New("tar changed between passes"))
		}
		isFile, err := makeDirsFor(p, i, w, out)
		if err != nil {
			return err
		}
		if !isFile {
			continue
		}
		n, err := w.main.writeFile(p.names[i], s.tr)
		if err != nil {
			return err
		}
		if n != h.Size {
			return corrupt(io.ErrUnexpectedEOF)
		}
		out.Files++
	}
	return nil
}

// makeDirsFor creates what entry i of the plan needs before its content: the
// directory itself (counted), or a file's parent. isFile says the file's
// content is still to write; entries the plan does not write need nothing.
func makeDirsFor(p *plan, i int, w *treeWriter, out *Extracted) (isFile bool, err error) {
	name := p.names[i]
	if name == "" {
		return false, nil
	}
	switch p.kinds[i] {
	case kindDir:
		if err := w.mkdirAll(name); err != nil {
			return false, err
		}
		out.Dirs++
	case kindFile:
		return true, w.mkdirAll(parentOf(name))
	}
	return false, nil
}
