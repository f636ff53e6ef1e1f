package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// This file builds hostile archives in memory. The table tests, the fuzz seed
// corpus (testdata/fuzz/FuzzExtractArchive, regenerated with
// `go test ./app/ingest -run TestFuzzCorpus -update-corpus`) and the
// benchmarks all use it, so the seeds are exactly what the tests describe.

var fixedTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// zipEntry describes one entry to write. Raw entries carry pre-compressed data
// and lying sizes.
type zipEntry struct {
	name    string
	body    []byte
	mode    int64 // unix mode bits incl. type (e.g. 0o120777 for a symlink); 0 = regular 0644
	method  uint16
	rawSize uint64 // when > 0: write with CreateRaw declaring this uncompressed size
}

func buildZip(tb testing.TB, entries ...zipEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: e.method, Modified: fixedTime}
		mode := e.mode
		if mode == 0 {
			mode = 0o100644
		}
		h.CreatorVersion = 3 << 8 // unix, so ExternalAttrs carry the mode
		h.ExternalAttrs = uint32(mode) << 16
		if e.rawSize > 0 {
			var comp bytes.Buffer
			fw := newTestFlate(&comp)
			fw.Write(e.body)
			fw.Close()
			h.Method = zip.Deflate
			h.CompressedSize64 = uint64(comp.Len())
			h.UncompressedSize64 = e.rawSize
			h.CRC32 = 0
			w, err := zw.CreateRaw(h)
			if err != nil {
				tb.Fatal(err)
			}
			w.Write(comp.Bytes())
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// tarEntry describes one tar entry.
type tarEntry struct {
	name     string
	body     []byte
	typeflag byte
	linkname string
}

func buildTar(tb testing.TB, entries ...tarEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		tf := e.typeflag
		if tf == 0 {
			tf = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: tf, Linkname: e.linkname, Mode: 0o644, ModTime: fixedTime, Format: tar.FormatPAX}
		if tf == tar.TypeXGlobalHeader {
			h = &tar.Header{Name: e.name, Typeflag: tf, PAXRecords: map[string]string{"comment": e.linkname}, Format: tar.FormatPAX}
		}
		if tf == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if tf == tar.TypeChar || tf == tar.TypeBlock {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if tf == tar.TypeReg {
			tw.Write(e.body)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func gz(tb testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(tb testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func manyZipEntries(tb testing.TB, n int) []byte {
	es := make([]zipEntry, n)
	for i := range es {
		es[i] = zipEntry{name: fmt.Sprintf("d%d/f%d", i%100, i), method: zip.Store}
	}
	return buildZip(tb, es...)
}

func newTestFlate(w io.Writer) io.WriteCloser {
	fw, _ := flate.NewWriter(w, flate.BestCompression)
	return fw
}
