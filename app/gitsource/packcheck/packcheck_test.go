package packcheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

func header(version, count uint32) []byte {
	b := []byte("PACK")
	b = binary.BigEndian.AppendUint32(b, version)
	return binary.BigEndian.AppendUint32(b, count)
}

func TestGuard(t *testing.T) {
	ok := append(header(2, 3), "rest"...)
	r, err := Guard(bytes.NewReader(ok), 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, ok) {
		t.Fatalf("stream changed: %q", got)
	}

	_, err = Guard(bytes.NewReader(header(2, 0xffffffff)), 0)
	var tm *TooManyObjectsError
	if !errors.As(err, &tm) || tm.Declared != 0xffffffff || tm.Max != DefaultMaxObjects {
		t.Fatalf("huge count: %v", err)
	}
	for _, bad := range [][]byte{[]byte("PAC"), []byte("NOTAPACKHEAD"), header(4, 1)} {
		if _, err := Guard(bytes.NewReader(bad), 0); !errors.Is(err, ErrBadHeader) {
			t.Errorf("Guard(%q) = %v, want ErrBadHeader", bad, err)
		}
	}
	r, err = Guard(strings.NewReader(""), 0)
	if err != nil {
		t.Fatalf("empty stream: %v", err)
	}
	if got, _ := io.ReadAll(r); len(got) != 0 {
		t.Fatalf("empty stream yielded %q", got)
	}
}
