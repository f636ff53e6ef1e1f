package secrets

import (
	"bytes"
	"errors"
	"io"
)

// Files are scanned in segments of segmentBytes with segmentOverlap bytes of
// context on each side (docs/secrets-engine.md): big enough that the
// per-segment setup (prefilter, decoding) is amortised, small enough that
// two workers share one large file and memory stays bounded; the overlap
// is longer than any secret gitleaks' 100 KB fragments could hold, so a
// multi-line key straddling a boundary is still found whole.
const (
	segmentBytes   = 1 << 20
	segmentOverlap = 128 << 10
)

// segmentText is one segment of a file, cut at line starts where possible.
type segmentText struct {
	raw              string
	startLine        int // line number of raw's first line
	ownStart, ownEnd int // offsets in raw of the range this segment reports
	first, last      bool
}

// streamSegments reads r once, front to back, and hands fn each segment in
// order. Only the current segment and its overlap are held in memory.
func streamSegments(r io.Reader, size, overlap int, fn func(segmentText) error) error {
	var (
		buf    []byte
		bufOff int // file offset of buf[0]
		lines  int // newlines in the file before bufOff
		eof    bool
		chunk  = make([]byte, 64<<10)
	)
	for k := 0; ; k++ {
		ownStart := k * size
		need := ownStart + size + overlap
		for !eof && bufOff+len(buf) < need {
			n, err := r.Read(chunk)
			buf = append(buf, chunk[:n]...)
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return err
			}
		}
		fileEnd := bufOff + len(buf)
		ownEnd := ownStart + size
		last := false
		if eof && ownEnd >= fileEnd {
			ownEnd, last = fileEnd, true
		}
		ts := max(0, ownStart-overlap)
		if ts > 0 {
			if i := bytes.IndexByte(buf[ts-bufOff:ownStart-bufOff], '\n'); i >= 0 {
				ts += i + 1
			}
		}
		te := min(fileEnd, ownEnd+overlap)
		if te < fileEnd {
			if i := bytes.LastIndexByte(buf[ownEnd-bufOff:te-bufOff], '\n'); i >= 0 {
				te = ownEnd + i + 1
			}
		}
		seg := segmentText{
			raw:       string(buf[ts-bufOff : te-bufOff]),
			startLine: 1 + lines + bytes.Count(buf[:ts-bufOff], []byte{'\n'}),
			ownStart:  ownStart - ts,
			ownEnd:    ownEnd - ts,
			first:     k == 0,
			last:      last,
		}
		if err := fn(seg); err != nil || last {
			return err
		}
		// No later segment starts before ownEnd-overlap.
		if drop := ownEnd - overlap - bufOff; drop > 0 {
			lines += bytes.Count(buf[:drop], []byte{'\n'})
			buf = append(buf[:0], buf[drop:]...)
			bufOff += drop
		}
	}
}
