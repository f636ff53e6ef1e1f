package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vegasec/vega/app/export"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
)

// pollEvery is how often the command asks the server about an ingest or scan.
const pollEvery = 500 * time.Millisecond

// runRemote uploads sel to the server as a tar.gz into --project (created
// if missing) and --repo (created, or re-ingested when it exists), queues a
// scan and waits for it, then reads the scan's findings from the server's
// JSON export. The scan, its findings and their triage stay on the server;
// with --new-only only findings the previous complete scan did not report
// are kept.
func runRemote(ctx context.Context, o *options, sys IO, root string, sel *ingest.Selection, prog *progress) (*result, error) {
	c, err := newClient(o.server, sys.Getenv("VEGA_API_KEY"), sys.Version)
	if err != nil {
		return nil, err
	}
	if insecure(c.base) {
		prog.line("warning: %s is plain http; the API key and the source cross the network unencrypted", c.base)
	}
	timeout, err := time.ParseDuration(o.timeout)
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("--timeout: want a duration such as 30m (got %q)", o.timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	repoName := o.repo
	if strings.TrimSpace(repoName) == "" {
		repoName = filepath.Base(root)
	}

	project, err := ensureProject(ctx, c, o.project)
	if err != nil {
		return nil, fmt.Errorf("project %q: %w", o.project, err)
	}
	repo, err := upload(ctx, c, project, repoName, root, sel, prog)
	if err != nil {
		return nil, fmt.Errorf("upload to repository %q: %w", repoName, err)
	}
	if err := waitIngest(ctx, c, repo.ID, prog); err != nil {
		return nil, fmt.Errorf("repository %q: %w", repoName, err)
	}
	scan, err := runServerScan(ctx, c, repo.ID, o.engines, prog)
	if err != nil {
		return nil, err
	}
	rep, err := scanReport(ctx, c, scan.ID)
	if err != nil {
		return nil, fmt.Errorf("findings of scan %s: %w", scan.ID, err)
	}
	findings := rep.Findings
	if o.newOnly {
		prev, err := previousCompleteScan(ctx, c, repo.ID, scan)
		if err != nil {
			return nil, fmt.Errorf("previous scan: %w", err)
		}
		if prev == "" {
			prog.line("--new-only: no earlier complete scan of %s; every finding is new", repoName)
		} else {
			old, err := scanReport(ctx, c, prev)
			if err != nil {
				return nil, fmt.Errorf("findings of the previous scan %s: %w", prev, err)
			}
			known := map[string]bool{}
			for _, f := range old.Findings {
				known[f.Fingerprint] = true
			}
			findings = notIn(findings, known)
			prog.line("--new-only: %d of %d findings are new since scan %s", len(findings), len(rep.Findings), prev)
		}
	}
	prog.line("scan %s in the dashboard: %s/scans/%s", scan.ID, c.base, scan.ID)
	return &result{findings: findings, meta: export.Meta{ToolVersion: rep.Generator.Version, ScanID: scan.ID,
		RepositoryID: repo.ID, RepositoryName: rep.Repository, CommitSHA: rep.CommitSHA, ScanStatus: store.ScanCompleted}}, nil
}

type projectView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type repoView struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	SourceType   string           `json:"source_type"`
	IngestStatus string           `json:"ingest_status"`
	IngestError  *store.ErrorInfo `json:"ingest_error"`
}

type scanView struct {
	ID         string             `json:"id"`
	Status     string             `json:"status"`
	Engines    []string           `json:"engines"`
	Progress   store.ScanProgress `json:"progress"`
	Error      *store.ScanError   `json:"error"`
	StopReason string             `json:"stop_reason"`
	CreatedAt  time.Time          `json:"created_at"`
}

// ensureProject finds the caller's project by name or creates it.
func ensureProject(ctx context.Context, c *client, name string) (string, error) {
	found, err := list(ctx, c, "/v1/projects", func(p projectView) bool { return p.Name == name })
	if err != nil {
		return "", err
	}
	if len(found) > 0 {
		return found[0].ID, nil
	}
	var p projectView
	if err := c.do(ctx, "POST", "/v1/projects", map[string]string{"name": name}, "", &p); err != nil {
		return "", err
	}
	return p.ID, nil
}

// upload sends the archive: a new repository, or a re-ingest of the
// project's repository of that name (its scans and triage carry on).
func upload(ctx context.Context, c *client, projectID, name, root string, sel *ingest.Selection, prog *progress) (*repoView, error) {
	found, err := list(ctx, c, "/v1/projects/"+projectID+"/repositories", func(r repoView) bool { return r.Name == name })
	if err != nil {
		return nil, err
	}
	path := "/v1/projects/" + projectID + "/repositories"
	if len(found) > 0 {
		if found[0].SourceType == store.SourceGit {
			return nil, fmt.Errorf("it is a Git repository, which the server clones itself; choose another --repo")
		}
		path = "/v1/repositories/" + found[0].ID + "/ingest"
	}
	// The archive is packed into a temporary file first: the request then
	// has a Content-Length (servers and proxies in front of them may refuse
	// chunked uploads) and the bar shows bytes sent of a known total.
	tmp, err := os.CreateTemp("", "vega-scan-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	files := len(sel.Files)
	err = writeArchive(tmp, root, sel, func(n int, b int64) {
		pct := 100
		if files > 0 {
			pct = n * 100 / files
		}
		prog.update("pack", pct, fmt.Sprintf("%d/%d files, %s", n, files, humanBytes(b)))
	})
	prog.done()
	if err != nil {
		return nil, err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	if err := mw.WriteField("name", name); err != nil {
		return nil, err
	}
	if _, err := mw.CreateFormFile("archive", "vega-scan.tar.gz"); err != nil {
		return nil, err
	}
	ct := mw.FormDataContentType()
	tail.WriteString("\r\n--" + mw.Boundary() + "--\r\n")
	body := &sizedReader{r: io.MultiReader(&head, &countingReader{r: tmp, n: func(sent int64) {
		prog.update("upload", int(sent*100/max(size, 1)), fmt.Sprintf("%s of %s", humanBytes(sent), humanBytes(size)))
	}}, &tail), size: int64(head.Len()) + size + int64(tail.Len())}
	var repo repoView
	err = c.do(ctx, "POST", path, body, ct, &repo)
	prog.done()
	if err != nil {
		return nil, err
	}
	prog.line("uploaded %d files (%s, %s compressed) to %s", files, humanBytes(sel.TotalBytes), humanBytes(size), repo.Name)
	return &repo, nil
}

// waitIngest waits until the server turned the upload into a snapshot.
func waitIngest(ctx context.Context, c *client, repoID string, prog *progress) error {
	defer prog.done()
	return poll(ctx, pollEvery, func() (bool, error) {
		var r repoView
		if err := c.do(ctx, "GET", "/v1/repositories/"+repoID, nil, "", &r); err != nil {
			return false, err
		}
		switch r.IngestStatus {
		case store.IngestReady:
			return true, nil
		case store.IngestFailed:
			msg := "the server could not ingest the upload"
			if r.IngestError != nil {
				msg = fmt.Sprintf("%s (%s)", oneLine(r.IngestError.Message), r.IngestError.Code)
			}
			return false, errors.New(msg)
		}
		prog.update("ingest", -1, r.IngestStatus)
		return false, nil
	})
}

// runServerScan queues a scan of the latest snapshot and waits for its end.
// Interrupted (Ctrl-C, --timeout), it asks the server to cancel the scan.
func runServerScan(ctx context.Context, c *client, repoID string, engines []string, prog *progress) (*scanView, error) {
	body := map[string]any{}
	if len(engines) > 0 {
		body["engines"] = engines
	}
	var s scanView
	if err := c.do(ctx, "POST", "/v1/repositories/"+repoID+"/scans", body, "", &s); err != nil {
		return nil, fmt.Errorf("start a scan: %w", err)
	}
	prog.line("scan %s queued with %s", s.ID, strings.Join(s.Engines, ", "))
	err := poll(ctx, pollEvery, func() (bool, error) {
		if err := c.do(ctx, "GET", "/v1/scans/"+s.ID, nil, "", &s); err != nil {
			return false, err
		}
		switch store.ScanStatus(s.Status) {
		case store.ScanCompleted, store.ScanFailed, store.ScanCancelled:
			return true, nil
		}
		pct := s.Progress.Percent
		if s.Status != string(store.ScanRunning) {
			pct = -1
		}
		detail := s.Status
		if s.Progress.Message != "" {
			detail = s.Progress.Message
		}
		prog.update("scan", pct, detail)
		return false, nil
	})
	prog.done()
	if err != nil {
		if ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = c.do(cctx, "POST", "/v1/scans/"+s.ID+"/cancel", map[string]any{}, "", nil)
			return nil, fmt.Errorf("scan %s: stopped waiting (%w); asked the server to cancel it", s.ID, ctx.Err())
		}
		return nil, fmt.Errorf("scan %s: %w", s.ID, err)
	}
	if store.ScanStatus(s.Status) != store.ScanCompleted {
		msg := s.Status
		if s.Error != nil {
			msg += ": " + oneLine(s.Error.Message)
		}
		return nil, fmt.Errorf("scan %s did not complete (%s)", s.ID, msg)
	}
	return &s, nil
}

// serverReport is the server's JSON export of one scan (app/export.JSON).
type serverReport struct {
	Generator struct {
		Version string `json:"version"`
	} `json:"generator"`
	Repository string          `json:"repository"`
	CommitSHA  string          `json:"commit_sha"`
	Findings   []store.Finding `json:"findings"`
}

func scanReport(ctx context.Context, c *client, scanID string) (*serverReport, error) {
	var rep serverReport
	if err := c.do(ctx, "GET", "/v1/scans/"+scanID+"/findings/export?format=json", nil, "", &rep); err != nil {
		return nil, err
	}
	if rep.Findings == nil {
		rep.Findings = []store.Finding{}
	}
	return &rep, nil
}

// previousCompleteScan is the newest completed scan of the repository
// created before this one ("" when there is none).
func previousCompleteScan(ctx context.Context, c *client, repoID string, current *scanView) (string, error) {
	done, err := list(ctx, c, "/v1/repositories/"+repoID+"/scans?status="+url.QueryEscape(string(store.ScanCompleted)),
		func(s scanView) bool { return s.ID != current.ID && s.CreatedAt.Before(current.CreatedAt) })
	if err != nil {
		return "", err
	}
	best := ""
	var at time.Time
	for _, s := range done {
		if best == "" || s.CreatedAt.After(at) {
			best, at = s.ID, s.CreatedAt
		}
	}
	return best, nil
}

// sizedReader is a request body of known length.
type sizedReader struct {
	r    io.Reader
	size int64
}

func (s *sizedReader) Read(p []byte) (int, error) { return s.r.Read(p) }

// countingReader reports the bytes read so far after every read.
type countingReader struct {
	r    io.Reader
	sent int64
	n    func(sent int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.sent += int64(n)
	if n > 0 {
		c.n(c.sent)
	}
	return n, err
}

// insecure says base is plain http to a host other than this machine.
func insecure(base string) bool {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return false
	}
	ip := net.ParseIP(h)
	return ip == nil || !ip.IsLoopback()
}
