package secrets

import (
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// TestStreamSegmentsPartitionTheFile: own ranges tile the file exactly,
// each segment is the file's text at its place with the right first line
// number, and every own range has its overlap around it.
func TestStreamSegmentsPartitionTheFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 999, 1000, 1001, 5000, 12345} {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(strings.Repeat("x", rng.IntN(120)))
			if rng.IntN(10) > 0 {
				b.WriteByte('\n')
			}
		}
		file := b.String()[:n]
		const size, overlap = 1000, 200
		next := 0 // file offset the next own range must start at
		var last bool
		err := streamSegments(iotest.HalfReader(strings.NewReader(file)), size, overlap, func(s segmentText) error {
			ts := next - s.ownStart
			if ts < 0 || file[ts:ts+len(s.raw)] != s.raw {
				t.Fatalf("n=%d: segment text is not the file's at %d", n, ts)
			}
			if want := 1 + strings.Count(file[:ts], "\n"); s.startLine != want {
				t.Fatalf("n=%d: start line %d, want %d", n, s.startLine, want)
			}
			if ts > 0 && ts > next-overlap+120 && file[ts-1] != '\n' {
				t.Fatalf("n=%d: segment starts mid-line without its overlap", n)
			}
			if end := ts + len(s.raw); !s.last && end < min(len(file), next+size+overlap)-120 {
				t.Fatalf("n=%d: overlap after the own range is short", n)
			}
			next += s.ownEnd - s.ownStart
			last = s.last
			return nil
		})
		if err != nil || !last || next != len(file) {
			t.Fatalf("n=%d: own ranges cover %d of %d bytes (last %v, err %v)", n, next, len(file), last, err)
		}
	}
}
