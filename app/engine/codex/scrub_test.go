package codex

import (
	"bytes"
	"strings"
	"testing"
)

// TestScrubWriter: stderr reaches the debug bundle scrubbed line by line,
// whatever the write boundaries, including a last line without an end and
// a line longer than the buffer.
func TestScrubWriter(t *testing.T) {
	var out bytes.Buffer
	w := &scrubWriter{w: &out, token: "SCANTOKEN"}
	for _, chunk := range []string{"error: auth with SCAN", "TOKEN failed\npassword=hun", "ter2hunter2\n", "tail DB_PASS=letmein"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("write %q: %d %v", chunk, n, err)
		}
	}
	w.Flush()
	if got := out.String(); got != "error: auth with [redacted] failed\npassword=[redacted]\ntail DB_PASS=[redacted]" {
		t.Errorf("scrubbed stderr: %q", got)
	}
	out.Reset()
	long := strings.Repeat("x", 3*scrubChunk) + strings.Repeat(" x", scrubChunk/2-4) + " SCANTOKEN" + strings.Repeat(" y", scrubChunk) + "\n"
	if _, err := w.Write([]byte(long)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if strings.Contains(out.String(), "SCANTOKEN") || out.Len() < 3*scrubChunk {
		t.Errorf("long line: %d bytes, token present: %v", out.Len(), strings.Contains(out.String(), "SCANTOKEN"))
	}
}
