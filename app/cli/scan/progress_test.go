package scan

import (
	"strings"
	"testing"
)

// On a terminal the bar is redrawn in place and cleared before the next
// line; in a log it is one line per 10 points, never a control character.
func TestProgressBarAndLines(t *testing.T) {
	var tty strings.Builder
	p := newProgress(&tty, true, false)
	p.update("upload", 50, "1.0 MiB of 2.0 MiB")
	p.update("upload", 100, "2.0 MiB of 2.0 MiB")
	p.line("uploaded")
	want := "\rupload     [===============               ]  50% 1.0 MiB of 2.0 MiB\x1b[K" +
		"\rupload     [==============================] 100% 2.0 MiB of 2.0 MiB\x1b[K\r\x1b[Kvega: uploaded\n"
	if tty.String() != want {
		t.Fatalf("terminal:\n%q\nwant\n%q", tty.String(), want)
	}

	var log strings.Builder
	p = newProgress(&log, false, false)
	for pct := 0; pct <= 100; pct++ {
		p.update("scan", pct, "secrets\x1b[31m")
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 11 || lines[5] != "vega: scan 50% secrets [31m" || strings.ContainsRune(log.String(), '\x1b') {
		t.Fatalf("plain lines:\n%s", log.String())
	}

	var quiet strings.Builder
	p = newProgress(&quiet, true, true)
	p.update("scan", 10, "x")
	p.line("y")
	if quiet.Len() != 0 {
		t.Fatalf("--quiet wrote %q", quiet.String())
	}
}
