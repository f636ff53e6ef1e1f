package ingest

import (
	"io"

	"github.com/vegasec/vega/app/apperr"
)

// CopyLimited copies src to dst and fails with payload_too_large (details
// reason too_large, limit) as soon as src holds more than max bytes, so an
// upload is cut off while streaming instead of after it was stored whole.
// Bytes up to the cap may already be in dst; the caller discards them.
func CopyLimited(dst io.Writer, src io.Reader, max int64) (int64, error) {
	buf := make([]byte, copyBufferSize)
	return io.CopyBuffer(writerOnly{dst}, LimitReader(src, max), buf)
}

// LimitReader reads r and fails with the same payload_too_large error as
// CopyLimited once r holds more than max bytes, so a consumer such as
// blob.Store.Put stops (and discards what it wrote) mid-stream.
func LimitReader(r io.Reader, max int64) io.Reader {
	return &limitReader{r: io.LimitReader(r, max+1), max: max}
}

type limitReader struct {
	r      io.Reader
	n, max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, apperr.New(apperr.PayloadTooLarge, "The upload is larger than %d bytes", l.max).
			WithDetails(map[string]any{"reason": ReasonTooLarge, "limit": l.max})
	}
	return n, err
}
