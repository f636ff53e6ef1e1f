package codex

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// Bounds on what one Codex call may produce. Model output is hostile input: a
// 10 MB "message" must cost a warning, not memory or a crash.
const (
	maxLineBytes   = 4 << 20  // one JSONL event; longer lines are skipped
	maxRawOutput   = 32 << 20 // stdout kept in the artifacts
	maxLogText     = 500      // characters of a command or message in scan_log
	maxFinalAnswer = 2 << 20  // the stage result (agent message)
)

var (
	errCallTimeout = errors.New("codex call exceeded its wall-clock timeout")
	errCallIdle    = errors.New("codex call produced no output for too long")
)

// callSpec is one Codex call of a stage.
type callSpec struct {
	stage  string // plan | audit | validate | profile
	label  string // e.g. "audit auth-api"; for logs and artifact names
	prompt string
	schema []byte
}

// callResult is what a finished call produced.
type callResult struct {
	final string // the last agent message: the stage's JSON answer
	usage store.Usage
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// run executes one Codex call: writes prompt and schema into a private call
// directory under the artifacts, starts Codex through the sandbox, follows
// its JSONL stream with wall-clock and idle timeouts, and returns the final
// agent message. stdout and stderr are kept for the debug bundle.
func (e *Engine) run(ctx context.Context, in engine.Input, emit engine.Emitter, c callSpec) (callResult, error) {
	n := e.seq.Add(1)
	dir := filepath.Join(e.artifactRoot(in), fmt.Sprintf("%03d-%s", n, unsafeName.ReplaceAllString(c.label, "_")))
	if len(dir) > 200 {
		dir = dir[:200]
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return callResult{}, fmt.Errorf("codex: call directory: %w", err)
	}
	schemaFile := filepath.Join(dir, "schema.json")
	if err := os.WriteFile(schemaFile, c.schema, 0o600); err != nil {
		return callResult{}, err
	}
	// The prompt may quote findings; never let the scan token into artifacts.
	if err := os.WriteFile(filepath.Join(dir, "prompt.md"), []byte(c.prompt), 0o600); err != nil {
		return callResult{}, err
	}
	home, err := os.MkdirTemp("", "vega-codex-home-")
	if err != nil {
		return callResult{}, fmt.Errorf("codex: private HOME: %w", err)
	}
	defer os.RemoveAll(home)

	stderr, err := os.OpenFile(filepath.Join(dir, "stderr.txt"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return callResult{}, err
	}
	defer stderr.Close()
	raw, err := os.OpenFile(filepath.Join(dir, "stdout.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return callResult{}, err
	}
	defer raw.Close()

	cmd := e.cfg.Sandbox.Command(Invocation{
		Bin: e.cfg.Bin, Model: e.cfg.Model, ProxyURL: strings.TrimRight(in.LLM.BaseURL, "/"), Token: in.LLM.Token,
		SourceDir: in.SourceDir, SchemaFile: schemaFile, HomeDir: home, Prompt: c.prompt,
	})
	// stderr goes to the debug bundle too, scrubbed like stdout: Codex
	// reports errors there and may quote what it read.
	errOut := &scrubWriter{w: &capWriter{w: stderr, left: maxRawOutput}, token: in.LLM.Token}
	proc, err := e.cfg.Runner.Start(cmd, errOut)
	if err != nil {
		return callResult{}, fmt.Errorf("codex: starting %s: %w", filepath.Base(cmd.Path), err)
	}

	lines := make(chan []byte)
	readErr := make(chan error, 1)
	stopRead := make(chan struct{})
	defer close(stopRead)
	go readLines(proc.Stdout(), lines, readErr, stopRead)
	// Raw output goes to the debug bundle line by line, with the scan token
	// redacted: a model that ran `env` would otherwise have put it there.
	rawOut := &capWriter{w: raw, left: maxRawOutput}

	wall := time.NewTimer(e.cfg.CallTimeout)
	defer wall.Stop()
	idle := time.NewTimer(e.cfg.IdleTimeout)
	defer idle.Stop()

	st := &streamState{e: e, emit: emit, token: in.LLM.Token, label: c.label}
	var failure error
loop:
	for {
		select {
		case line := <-lines:
			idle.Reset(e.cfg.IdleTimeout)
			_, _ = io.WriteString(rawOut, scrub(string(line), in.LLM.Token)+"\n")
			st.handle(line)
		case err := <-readErr:
			if errors.Is(err, errLineTooLong) {
				emit.Log("warn", fmt.Sprintf("codex %s: skipped an output line longer than %d bytes", c.label, maxLineBytes))
				st.lostAnswer = true
				continue
			}
			break loop // EOF or read error: the process is done with stdout
		case <-wall.C:
			failure = errCallTimeout
			break loop
		case <-idle.C:
			failure = errCallIdle
			break loop
		case <-ctx.Done():
			failure = ctx.Err()
			break loop
		}
	}
	if failure != nil {
		proc.Kill()
	}
	waitErr := proc.Wait()
	errOut.Flush()

	res := callResult{final: st.final, usage: st.usage}
	switch {
	case failure != nil:
		return res, fmt.Errorf("codex %s: %w", c.label, failure)
	case st.budget:
		return res, fmt.Errorf("codex %s: %s: %w", c.label, st.failure, engine.ErrBudgetExceeded)
	case st.failure != "":
		return res, fmt.Errorf("codex %s failed: %s", c.label, st.failure)
	case waitErr != nil:
		return res, fmt.Errorf("codex %s exited: %v", c.label, waitErr)
	case st.final == "":
		if st.lostAnswer {
			return res, fmt.Errorf("codex %s: the answer exceeded the size limit", c.label)
		}
		return res, fmt.Errorf("codex %s gave no answer", c.label)
	}
	return res, nil
}

// artifactRoot is where call directories go; Run and GenerateProfile make
// sure ArtifactDir is set (a private temporary directory if the caller gave none).
func (e *Engine) artifactRoot(in engine.Input) string { return filepath.Join(in.ArtifactDir, "codex") }

var errLineTooLong = errors.New("line too long")

// readLines splits r into lines of at most maxLineBytes. An over-long line is
// reported once and skipped to its end, so memory stays bounded whatever the
// child prints.
func readLines(r io.Reader, out chan<- []byte, errs chan<- error, stop <-chan struct{}) {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	skipping := false
	send := func(v any) bool {
		switch v := v.(type) {
		case []byte:
			select {
			case out <- v:
				return true
			case <-stop:
				return false
			}
		case error:
			select {
			case errs <- v:
				return true
			case <-stop:
				return false
			}
		}
		return false
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 && !skipping {
			if len(buf)+len(chunk) > maxLineBytes {
				buf, skipping = buf[:0], true
				if !send(errLineTooLong) {
					return
				}
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			if len(buf) > 0 && !skipping {
				if !send(bytes.Clone(buf)) {
					return
				}
			}
			send(err)
			return
		}
		if !skipping && len(buf) > 0 {
			if !send(bytes.Clone(bytes.TrimRight(buf, "\r\n"))) {
				return
			}
		}
		buf, skipping = buf[:0], false
	}
}

// streamState interprets the JSONL events of one call.
type streamState struct {
	e          *Engine
	emit       engine.Emitter
	token      string
	label      string
	final      string
	usage      store.Usage
	failure    string
	budget     bool
	lostAnswer bool
}

func (s *streamState) handle(line []byte) {
	ev, err := ParseLine(line)
	if err != nil {
		return // not an event (wrapper noise); the raw output is in the artifacts
	}
	switch ev.Type {
	case EventTurnCompleted:
		if ev.Usage != nil {
			u := store.Usage{InputTokens: ev.Usage.InputTokens, CachedInputTokens: ev.Usage.CachedInputTokens, OutputTokens: ev.Usage.OutputTokens}
			if s.e.cfg.Cost != nil {
				u.CostUSD = s.e.cfg.Cost(s.e.cfg.Model, u.InputTokens, u.CachedInputTokens, u.OutputTokens)
			}
			s.usage.Add(u)
			s.emit.Usage(engine.UsageReport{Model: s.e.cfg.Model, Usage: u})
		}
	case EventTurnFailed, EventError:
		msg := ev.errorText()
		if isBudgetError(msg) {
			s.budget = true
		}
		if ev.Type == EventTurnFailed || s.failure == "" {
			s.failure = s.clean(msg)
		}
		s.emit.Log("warn", "codex "+s.label+": "+s.clean(msg))
	case EventItemCompleted:
		s.item(ev.Item)
	}
}

func (s *streamState) item(it *Item) {
	if it == nil {
		return
	}
	switch it.Type {
	case ItemAgentMessage:
		if len(it.Text) > maxFinalAnswer {
			s.lostAnswer = true
			s.emit.Log("warn", fmt.Sprintf("codex %s: dropped an agent message of %d bytes (limit %d)", s.label, len(it.Text), maxFinalAnswer))
			return
		}
		s.final = it.Text
	case ItemCommandExecution:
		exit := "?"
		if it.ExitCode != nil {
			exit = fmt.Sprint(*it.ExitCode)
		}
		s.emit.Log("info", fmt.Sprintf("codex %s ran: %s (exit %s)", s.label, s.clean(it.Command), exit))
	case ItemFileChange:
		s.emit.Log("warn", fmt.Sprintf("codex %s attempted to change %d file(s); the sandbox is read-only", s.label, len(it.Changes)))
	case ItemMCPToolCall:
		s.emit.Log("info", fmt.Sprintf("codex %s called tool %s/%s", s.label, s.clean(it.Server), s.clean(it.Tool)))
	case ItemWebSearch:
		s.emit.Log("info", fmt.Sprintf("codex %s searched the web: %s", s.label, s.clean(it.Query)))
	case ItemError:
		// Harmless notices (e.g. unknown model metadata) arrive as error items.
		s.emit.Log("info", "codex "+s.label+": "+s.clean(it.Message))
	}
}

// clean makes model- or tool-supplied text safe for scan_log: the scan token
// and key-like strings are redacted and the text is cut to a readable size.
func (s *streamState) clean(t string) string {
	t = scrub(t, s.token)
	if len(t) > maxLogText {
		t = t[:maxLogText] + "…"
	}
	return strings.ToValidUTF8(t, "")
}

// isBudgetError recognises the proxy's 429 as Codex reports it. The proxy
// answers a capped scan with type insufficient_quota, which Codex turns into
// "Quota exceeded…" and does not retry; the proxy's own code is matched too
// in case a future CLI passes the body through. A plain upstream rate limit
// ("… last status: 429 …" after retries) is deliberately not a budget stop.
func isBudgetError(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "vega_scan_budget_exceeded") || strings.Contains(m, "quota exceeded")
}

// scrubChunk bounds what scrubWriter holds while waiting for a line end.
const scrubChunk = 64 << 10

// scrubWriter passes text through scrub a line at a time; a line longer
// than scrubChunk is scrubbed in pieces cut at blanks. Flush writes what is left once the
// writer is done (the process has exited).
type scrubWriter struct {
	w     io.Writer
	token string
	mu    sync.Mutex
	buf   []byte
}

func (s *scrubWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			if len(s.buf) < scrubChunk {
				return len(p), nil
			}
			// Cut at a blank, so a token is not split between pieces.
			if i = bytes.LastIndexAny(s.buf[:scrubChunk], " \t"); i < 0 {
				i = scrubChunk - 1
			}
		}
		if _, err := io.WriteString(s.w, scrub(string(s.buf[:i+1]), s.token)); err != nil {
			return len(p), err
		}
		s.buf = s.buf[i+1:]
	}
}

// Flush scrubs and writes a last line without a line end.
func (s *scrubWriter) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		_, _ = io.WriteString(s.w, scrub(string(s.buf), s.token))
		s.buf = nil
	}
}

// capWriter writes at most left bytes and silently drops the rest.
type capWriter struct {
	w    io.Writer
	left int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	n := len(p)
	if c.left <= 0 {
		return n, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	c.left -= int64(len(p))
	_, err := c.w.Write(p)
	return n, err
}
