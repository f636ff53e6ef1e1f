package scan

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress reports what the command is doing on stderr: a redrawn bar on a
// terminal, plain lines otherwise (CI logs), nothing with --quiet.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	quiet bool
	// bar state: the last line drawn and, for plain output, the last
	// percentage printed (lines only every 10 points or on a new phase).
	drawn     bool
	lastPhase string
	lastPct   int
	lastLine  time.Time
}

func newProgress(w io.Writer, tty, quiet bool) *progress {
	return &progress{w: w, tty: tty, quiet: quiet, lastPct: -1}
}

// line prints one message on its own line.
func (p *progress) line(format string, args ...any) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearBar()
	fmt.Fprintf(p.w, "vega: "+format+"\n", args...)
}

// update shows phase at pct percent (0–100; -1 when unknown) with detail.
func (p *progress) update(phase string, pct int, detail string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	detail = oneLine(detail)
	if p.tty {
		const width = 30
		bar := strings.Repeat(" ", width)
		label := "   "
		if pct >= 0 {
			n := min(pct, 100) * width / 100
			bar = strings.Repeat("=", n) + strings.Repeat(" ", width-n)
			label = fmt.Sprintf("%3d%%", min(pct, 100))
		}
		line := fmt.Sprintf("\r%-10s [%s] %s %s", phase, bar, label, detail)
		if len(line) > 100 {
			line = line[:100]
		}
		fmt.Fprintf(p.w, "%s\x1b[K", line)
		p.drawn = true
		return
	}
	step := pct / 10
	if phase == p.lastPhase && step == p.lastPct && time.Since(p.lastLine) < 30*time.Second {
		return
	}
	p.lastPhase, p.lastPct, p.lastLine = phase, step, time.Now()
	if pct >= 0 {
		fmt.Fprintf(p.w, "vega: %s %d%% %s\n", phase, pct, detail)
	} else {
		fmt.Fprintf(p.w, "vega: %s %s\n", phase, detail)
	}
}

// done ends a bar so the next output starts on a fresh line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearBar()
}

func (p *progress) clearBar() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
