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
	n, err := io.CopyBuffer(writerOnly{dst}, io.LimitReader(src, max+1), buf)
	if err != nil {
		return n, err
	}
	if n > max {
		return n, apperr.New(apperr.PayloadTooLarge, "The upload is larger than %d bytes", max).
			WithDetails(map[string]any{"reason": ReasonTooLarge, "limit": max})
	}
	return n, nil
}
