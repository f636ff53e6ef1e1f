// Package packcheck validates a git pack stream's header before go-git sees
// it. go-git's index writer (idxfile.Writer.OnHeader) preallocates one
// 32-byte entry per object the header *declares*, so a 12-byte header
// claiming 2^32 objects makes the process allocate 128 GiB and die. Every
// pack received from the network (clones and pushes) goes through Guard.
package packcheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxObjects bounds the objects one pack may declare: the index
// preallocation is then at most 32 MiB. A shallow clone needs one object
// per file and directory; a pushed history this large is better pushed
// shallow.
const DefaultMaxObjects = 1 << 20

// TooManyObjectsError reports a pack declaring more objects than allowed.
type TooManyObjectsError struct {
	Declared, Max uint32
}

func (e *TooManyObjectsError) Error() string {
	return fmt.Sprintf("pack declares %d objects, more than the limit of %d", e.Declared, e.Max)
}

// ErrBadHeader is returned for a stream that does not start like a pack.
var ErrBadHeader = errors.New("not a git pack (bad header)")

// Guard reads the 12-byte pack header from r, checks signature, version and
// declared object count (maxObjects 0 means DefaultMaxObjects), and returns
// a reader that yields the whole stream again, header included. An empty
// stream is passed through unchanged (a push that only deletes, or a fetch
// with nothing to send).
func Guard(r io.Reader, maxObjects uint32) (io.Reader, error) {
	if maxObjects == 0 {
		maxObjects = DefaultMaxObjects
	}
	var hdr [12]byte
	n, err := io.ReadFull(r, hdr[:])
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return bytes.NewReader(nil), nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, ErrBadHeader
	case err != nil:
		return nil, err
	}
	if string(hdr[:4]) != "PACK" {
		return nil, ErrBadHeader
	}
	if v := binary.BigEndian.Uint32(hdr[4:8]); v != 2 && v != 3 {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrBadHeader, v)
	}
	if count := binary.BigEndian.Uint32(hdr[8:12]); count > maxObjects {
		return nil, &TooManyObjectsError{Declared: count, Max: maxObjects}
	}
	return io.MultiReader(bytes.NewReader(hdr[:]), r), nil
}
