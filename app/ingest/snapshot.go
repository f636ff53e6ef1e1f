package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	kflate "github.com/klauspost/compress/flate"
	ignore "github.com/sabhiram/go-gitignore"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// ManifestVersion is the schema version written into every manifest.
const ManifestVersion = 1

// Manifest lists every file of a snapshot, sorted by path.
type Manifest struct {
	SchemaVersion int            `json:"schema_version"`
	Files         []ManifestFile `json:"files"`
}

type ManifestFile struct {
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Language string `json:"language,omitempty"`
}

// SnapshotOptions tune BuildSnapshotWithOptions.
type SnapshotOptions struct {
	// MaxFileBytes skips (and counts as oversized) files larger than this;
	// zero keeps every file. Extracted archives were already capped; a git
	// checkout is not, so its caller should set this.
	MaxFileBytes int64
	// Workers compress files in parallel; zero means GOMAXPROCS.
	Workers int
}

const (
	ignoreFileName     = ".vegaignore"
	maxIgnoreFileBytes = 256 << 10
	// inMemoryMax is the largest file compressed by a worker in memory; larger
	// files are streamed by the writer so memory stays bounded.
	inMemoryMax = 1 << 20
	// snapshotDeflateLevel trades ratio for speed: snapshots are written once
	// per ingest and are small next to the time budget of a scan.
	snapshotDeflateLevel = 1
)

// zipModTime is fixed so the same tree always produces the same zip bytes.
var zipModTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// BuildSnapshot is BuildSnapshotWithOptions with default options.
func BuildSnapshot(ctx context.Context, srcDir string, blobs blob.Store, snap *store.Snapshot) error {
	return BuildSnapshotWithOptions(ctx, srcDir, blobs, snap, SnapshotOptions{})
}

// BuildSnapshotWithOptions zips srcDir into blob storage under
// blob.SnapshotKey(snap.RepositoryID, snap.ID), writes the manifest under
// blob.ManifestKey, and fills snap's StorageKey, ManifestKey, FileCount,
// TotalBytes, StoredBytes (zip plus manifest), Languages and ContentSHA256.
// Its skip counts are ADDED to snap.Skipped, so a caller may first copy in
// Extracted.Skipped.
//
// The walk never follows symlinks (they are counted, not stored), excludes
// every ".git" directory, and honours a root ".vegaignore" in gitignore syntax
// (an ignored directory counts once in Skipped.Ignored). Names that could not
// be extracted safely again (see cleanEntryName) count as Skipped.Special.
// On failure nothing is left in blobs and snap is unchanged.
func BuildSnapshotWithOptions(ctx context.Context, srcDir string, blobs blob.Store, snap *store.Snapshot, opt SnapshotOptions) error {
	if snap.RepositoryID == "" || snap.ID == "" {
		return errors.New("ingest: snapshot needs RepositoryID and ID")
	}
	files, skipped, err := collectFiles(ctx, srcDir, opt)
	if err != nil {
		return err
	}
	zipKey := blob.SnapshotKey(snap.RepositoryID, snap.ID)
	manifestKey := blob.ManifestKey(snap.RepositoryID, snap.ID)
	manifest, zipSize, err := writeSnapshotZip(ctx, srcDir, files, blobs, zipKey, opt)
	if err != nil {
		blobs.Delete(context.WithoutCancel(ctx), zipKey)
		return err
	}
	body, err := json.Marshal(manifest)
	var manifestSize int64
	if err == nil {
		manifestSize, err = blobs.Put(ctx, manifestKey, bytes.NewReader(body))
	}
	if err != nil {
		cleanup := context.WithoutCancel(ctx)
		blobs.Delete(cleanup, zipKey)
		blobs.Delete(cleanup, manifestKey)
		return fmt.Errorf("ingest: write manifest: %w", err)
	}

	langs := map[string]int64{}
	var total int64
	for _, f := range manifest.Files {
		total += f.Size
		if f.Language != "" {
			langs[f.Language] += f.Size
		}
	}
	snap.StorageKey = zipKey
	snap.ManifestKey = manifestKey
	snap.FileCount = len(manifest.Files)
	snap.TotalBytes = total
	snap.StoredBytes = zipSize + manifestSize
	snap.Languages = langs
	snap.ContentSHA256 = ContentSHA256(manifest.Files)
	snap.Skipped.Symlinks += skipped.Symlinks
	snap.Skipped.Ignored += skipped.Ignored
	snap.Skipped.Oversized += skipped.Oversized
	snap.Skipped.Special += skipped.Special
	return nil
}

// ContentSHA256 identifies a tree's content: SHA-256 over, for every file in
// byte order of path, path + NUL + hex sha256 + "\n". files must be sorted.
func ContentSHA256(files []ManifestFile) string {
	h := sha256.New()
	for _, f := range files {
		io.WriteString(h, f.Path)
		h.Write([]byte{0})
		io.WriteString(h, f.SHA256)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// collectFiles walks srcDir and returns the slash paths of regular files to
// store, in sorted order.
func collectFiles(ctx context.Context, srcDir string, opt SnapshotOptions) ([]string, store.SkippedCounts, error) {
	var skipped store.SkippedCounts
	ign, err := loadIgnore(srcDir)
	if err != nil {
		return nil, skipped, err
	}
	var files []string
	err = filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("ingest: walk: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == srcDir {
			return nil
		}
		rel, err := filepath.Rel(srcDir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() && d.Name() == ".git" {
			return fs.SkipDir
		}
		if clean, err := cleanEntryName(rel); err != nil || clean != rel {
			skipped.Special++
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch mode := d.Type(); {
		case mode&fs.ModeSymlink != 0:
			skipped.Symlinks++
			return nil
		case mode.IsDir():
			if ign != nil && ign.MatchesPath(rel+"/") {
				skipped.Ignored++
				return fs.SkipDir
			}
			return nil
		case !mode.IsRegular():
			skipped.Special++
			return nil
		}
		if ign != nil && ign.MatchesPath(rel) {
			skipped.Ignored++
			return nil
		}
		if opt.MaxFileBytes > 0 {
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("ingest: stat: %w", err)
			}
			if info.Size() > opt.MaxFileBytes {
				skipped.Oversized++
				return nil
			}
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, skipped, err
	}
	sort.Strings(files)
	return files, skipped, nil
}

// loadIgnore reads srcDir/.vegaignore if it is a regular file (not a link).
func loadIgnore(srcDir string) (*ignore.GitIgnore, error) {
	f, err := os.OpenFile(filepath.Join(srcDir, ignoreFileName), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, nil // missing, a symlink, or unreadable: no ignore rules
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(f, maxIgnoreFileBytes))
	if err != nil {
		return nil, fmt.Errorf("ingest: read %s: %w", ignoreFileName, err)
	}
	return ignore.CompileIgnoreLines(strings.Split(string(body), "\n")...), nil
}

// packedFile is one file read, hashed and (for small files) compressed by a worker.
type packedFile struct {
	path   string
	size   int64
	sha256 string
	crc32  uint32
	method uint16
	data   []byte // compressed or stored bytes, unless streamed
	// streamed files are too large to hold in memory; the writer reads,
	// hashes and compresses them itself.
	streamed bool
	err      error
}

// writeSnapshotZip streams the snapshot zip into blobs. Workers read, hash and
// deflate small files in parallel; one writer appends them in path order with
// zip.Writer.CreateRaw, so the zip is deterministic.
func writeSnapshotZip(ctx context.Context, srcDir string, files []string, blobs blob.Store, key string, opt SnapshotOptions) (*Manifest, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	type putResult struct {
		size int64
		err  error
	}
	putDone := make(chan putResult, 1)
	go func() {
		n, err := blobs.Put(ctx, key, pr)
		pr.CloseWithError(err) // unblock the writer if Put gave up early
		putDone <- putResult{n, err}
	}()

	manifest, err := packFiles(ctx, srcDir, files, pw, opt)
	if err != nil {
		pw.CloseWithError(err)
		<-putDone
		return nil, 0, err
	}
	pw.Close()
	put := <-putDone
	if put.err != nil {
		return nil, 0, fmt.Errorf("ingest: store snapshot: %w", put.err)
	}
	return manifest, put.size, nil
}

func packFiles(ctx context.Context, srcDir string, files []string, out io.Writer, opt SnapshotOptions) (*Manifest, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// results holds one future per file in path order; its capacity bounds how
	// far workers run ahead of the writer (and so the memory in flight).
	results := make(chan chan *packedFile, 4*workers)
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newCompressor()
			for j := range jobs {
				j.result <- c.pack(srcDir, j.path)
			}
		}()
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(results)
		defer close(jobs)
		for _, p := range files {
			// The job is handed out before its future is queued, so every
			// queued future is sure to be filled and the drain below ends.
			r := make(chan *packedFile, 1)
			select {
			case jobs <- job{path: p, result: r}:
			case <-ctx.Done():
				return
			}
			select {
			case results <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		// Stop dispatching, then drain so workers and the dispatcher exit.
		cancel()
		for r := range results {
			<-r
		}
		wg.Wait()
	}()

	bw := bufio.NewWriterSize(out, 1<<20)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return kflate.NewWriter(w, snapshotDeflateLevel)
	})
	m := &Manifest{SchemaVersion: ManifestVersion, Files: make([]ManifestFile, 0, len(files))}
	streamBuf := make([]byte, copyBufferSize)
	for r := range results {
		pf := <-r
		if pf.err != nil {
			return nil, pf.err
		}
		if pf.streamed {
			if err := streamFile(ctx, zw, srcDir, pf, streamBuf); err != nil {
				return nil, err
			}
		} else {
			w, err := zw.CreateRaw(&zip.FileHeader{
				Name: pf.path, Method: pf.method, Modified: zipModTime,
				CRC32: pf.crc32, CompressedSize64: uint64(len(pf.data)), UncompressedSize64: uint64(pf.size),
			})
			if err == nil {
				_, err = w.Write(pf.data)
			}
			if err != nil {
				return nil, fmt.Errorf("ingest: write snapshot: %w", err)
			}
		}
		m.Files = append(m.Files, ManifestFile{Path: pf.path, Size: pf.size, SHA256: pf.sha256, Language: LanguageOf(pf.path)})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("ingest: write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("ingest: write snapshot: %w", err)
	}
	return m, nil
}

type job struct {
	path   string
	result chan *packedFile
}

// compressor is one worker's reusable state.
type compressor struct {
	raw  bytes.Buffer
	fw   *kflate.Writer
	comp bytes.Buffer
}

func newCompressor() *compressor {
	fw, _ := kflate.NewWriter(io.Discard, snapshotDeflateLevel)
	return &compressor{fw: fw}
}

func openNoFollow(srcDir, rel string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(filepath.Join(srcDir, filepath.FromSlash(rel)), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: open %q: %w", rel, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("ingest: %q is no longer a regular file", rel)
	}
	return f, st, nil
}

// pack reads a small file whole, hashes it and deflates it unless it is a
// known compressed format or deflate does not make it smaller. Large files
// are only marked; the writer streams them.
func (c *compressor) pack(srcDir, rel string) *packedFile {
	f, st, err := openNoFollow(srcDir, rel)
	if err != nil {
		return &packedFile{path: rel, err: err}
	}
	defer f.Close()
	if st.Size() > inMemoryMax {
		return &packedFile{path: rel, streamed: true}
	}
	c.raw.Reset()
	if _, err := c.raw.ReadFrom(io.LimitReader(f, inMemoryMax+1)); err != nil {
		return &packedFile{path: rel, err: fmt.Errorf("ingest: read %q: %w", rel, err)}
	}
	raw := c.raw.Bytes()
	if len(raw) > inMemoryMax {
		return &packedFile{path: rel, streamed: true} // grew since stat
	}
	sum := sha256.Sum256(raw)
	pf := &packedFile{path: rel, size: int64(len(raw)), sha256: hex.EncodeToString(sum[:]), crc32: crc32.ChecksumIEEE(raw), method: zip.Store}
	if len(raw) > 64 && !storedExts[strings.ToLower(filepath.Ext(rel))] {
		c.comp.Reset()
		c.fw.Reset(&c.comp)
		c.fw.Write(raw)
		c.fw.Close()
		if c.comp.Len() < len(raw)-len(raw)/32 {
			pf.method = zip.Deflate
			pf.data = bytes.Clone(c.comp.Bytes())
			return pf
		}
	}
	pf.data = bytes.Clone(raw)
	return pf
}

// streamFile writes a large file through the zip writer's own compressor,
// hashing as it goes.
func streamFile(ctx context.Context, zw *zip.Writer, srcDir string, pf *packedFile, buf []byte) error {
	f, _, err := openNoFollow(srcDir, pf.path)
	if err != nil {
		return err
	}
	defer f.Close()
	method := zip.Deflate
	if storedExts[strings.ToLower(filepath.Ext(pf.path))] {
		method = zip.Store
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: pf.path, Method: method, Modified: zipModTime})
	if err != nil {
		return fmt.Errorf("ingest: write snapshot: %w", err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(w, h), &ctxReader{ctx: ctx, r: f}, buf)
	if err != nil {
		return fmt.Errorf("ingest: snapshot %q: %w", pf.path, err)
	}
	pf.size = n
	pf.sha256 = hex.EncodeToString(h.Sum(nil))
	return nil
}
