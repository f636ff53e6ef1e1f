// Package gitpush implements the server side of the temporary `git push`
// remote (POST /v1/git-uploads; docs/architecture.md, "Sources"): Git smart HTTP,
// receive-pack only, into a fresh bare repository, and a safe checkout of
// what was pushed.
//
// The functions take io.Reader/io.Writer instead of net/http types so the
// fiber/fasthttp API can stream request bodies into them. The HTTP layer
// owns routing, the one-time token, expiry and "one push only"; this package
// owns the protocol and the repository on disk.
//
// What the HTTP layer must do (see also ParseRequest):
//
//	GET  /git/<token>.git/info/refs?service=git-receive-pack
//	     200, Content-Type: AdvertisementContentType, Cache-Control: no-cache,
//	     body written by AdvertiseReceivePack.
//	POST /git/<token>.git/git-receive-pack
//	     require Content-Type: ReceiveRequestContentType (else 415);
//	     Content-Encoding: gzip → ReceiveOptions.Gzip; cut the body off at the
//	     size limit as well. Buffer what ReceivePack writes (a few KB at most):
//	     if anything was written, answer 200, Content-Type: ResultContentType,
//	     Cache-Control: no-cache with it — the git client prints the in-band
//	     reason — even when ReceivePack also returned an error; if nothing was
//	     written, answer with the returned *apperr.Error's status.
//	Unknown or expired token: 404 (git prints "repository not found").
//	service=git-upload-pack or /git-upload-pack: 403 (ParseRequest says so).
package gitpush

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitsource/gittree"
	"github.com/vegasec/vega/app/gitsource/packcheck"
)

// Content types of Git smart HTTP for receive-pack.
const (
	AdvertisementContentType  = "application/x-git-receive-pack-advertisement"
	ReceiveRequestContentType = "application/x-git-receive-pack-request"
	ResultContentType         = "application/x-git-receive-pack-result"
	ReceivePackService        = "git-receive-pack"
)

// DefaultMaxBytes applies when ReceiveOptions.MaxBytes is zero
// (VEGA_MAX_SOURCE_BYTES).
const DefaultMaxBytes = 2 << 30

// maxRefUpdates bounds the commands one push may carry.
const maxRefUpdates = 100

// agent is what the remote calls itself in the capability list.
const agent = "vega"

// Limits and Stats are gittree's, re-exported so callers of Checkout need
// not import gittree.
type (
	Limits = gittree.Limits
	Stats  = gittree.Stats
)

// Op is what a request to the push remote asks for.
type Op int

const (
	// OpAdvertise is GET .../info/refs?service=git-receive-pack.
	OpAdvertise Op = iota + 1
	// OpReceive is POST .../git-receive-pack.
	OpReceive
)

// Request is a parsed push-remote request.
type Request struct {
	Token string
	Op    Op
}

// ParseRequest recognises the two receive-pack requests under prefix
// (e.g. "/git/"): path "<prefix><token>.git/info/refs" with service
// git-receive-pack, and "<prefix><token>.git/git-receive-pack". Fetching
// (upload-pack, dumb HTTP) is forbidden; anything else is not found. The
// token is returned as given; the caller looks it up (hashed).
func ParseRequest(method, path, service, prefix string) (Request, error) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return Request{}, apperr.NotFoundf("Not found")
	}
	token, action, ok := strings.Cut(rest, ".git/")
	if !ok || token == "" || strings.ContainsAny(token, "/\\") {
		return Request{}, apperr.NotFoundf("Not found")
	}
	switch {
	case action == "info/refs" && method == "GET":
		if service != ReceivePackService {
			return Request{}, apperr.Forbiddenf("This remote only accepts git push")
		}
		return Request{Token: token, Op: OpAdvertise}, nil
	case action == "git-receive-pack" && method == "POST":
		return Request{Token: token, Op: OpReceive}, nil
	case action == "git-upload-pack":
		return Request{}, apperr.Forbiddenf("This remote only accepts git push")
	}
	return Request{}, apperr.NotFoundf("Not found")
}

// InitBare creates an empty bare repository in dir (created if missing;
// an existing repository is an error) whose HEAD names refs/heads/main.
func InitBare(dir string) error {
	_, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		return fmt.Errorf("init bare repository: %w", err)
	}
	return nil
}

func openStorage(repoDir string) (*filesystem.Storage, error) {
	fs := osfs.New(repoDir)
	if _, err := fs.Stat("config"); err != nil {
		return nil, fmt.Errorf("open bare repository: %w", err)
	}
	return filesystem.NewStorage(fs, cache.NewObjectLRUDefault()), nil
}

func capabilities() *capability.List {
	caps := capability.NewList()
	// Errors are impossible for these fixed, valid capabilities.
	_ = caps.Set(capability.ReportStatus)
	_ = caps.Set(capability.OFSDelta)
	_ = caps.Set(capability.Agent, agent)
	return caps
}

// AdvertiseReceivePack writes the reference advertisement for
// `GET info/refs?service=git-receive-pack`, including the smart-HTTP
// service prefix. Deleting refs is not advertised, so clients refuse
// deletes before sending them.
func AdvertiseReceivePack(ctx context.Context, w io.Writer, repoDir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sto, err := openStorage(repoDir)
	if err != nil {
		return err
	}
	ar := packp.NewAdvRefs()
	ar.Capabilities = capabilities()
	ar.Prefix = [][]byte{[]byte("# service=" + ReceivePackService), pktline.Flush}
	iter, err := sto.IterReferences()
	if err != nil {
		return err
	}
	err = iter.ForEach(func(r *plumbing.Reference) error {
		if r.Type() == plumbing.HashReference && r.Name() != plumbing.HEAD {
			ar.References[r.Name().String()] = r.Hash()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ar.Encode(w)
}

// ReceiveOptions configure one push.
type ReceiveOptions struct {
	// MaxBytes caps the request body, counted both as received and after
	// gzip decoding (default 2 GiB).
	MaxBytes int64
	// Gzip says the body is gzip-encoded (Content-Encoding: gzip).
	Gzip bool
	// MaxObjects caps the objects the pushed pack may declare (default
	// packcheck.DefaultMaxObjects).
	MaxObjects uint32
}

// PushedRef is one reference a push created.
type PushedRef struct {
	Name string `json:"name"`
	// Hash is what the ref points at (a commit, or an annotated tag).
	Hash string `json:"hash"`
}

// Pushed reports what a successful push delivered.
type Pushed struct {
	// Ref is the reference the snapshot should be made from: refs/heads/main,
	// else refs/heads/master, else the first branch, else the first tag.
	Ref string `json:"ref"`
	// Commit is the commit Ref resolves to (annotated tags peeled).
	Commit string `json:"commit"`
	// Refs lists every reference the push created.
	Refs []PushedRef `json:"refs"`
}

// errTooLarge marks the size cap being hit; see countingReader.
var errTooLarge = errors.New("push too large")

type countingReader struct {
	r     io.Reader
	limit int64
	n     int64
	over  *atomic.Bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.over.Load() {
		return 0, errTooLarge
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		c.over.Store(true)
		return n, errTooLarge
	}
	return n, err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ReceivePack handles `POST git-receive-pack`: it decodes the ref update
// commands, stores the pack in the bare repository at repoDir and creates
// the refs. Only creations of refs/heads/* and refs/tags/* pointing at
// commits (or tags of commits) are accepted; deletes and updates are
// refused. A repository takes exactly one successful push (a marker file
// records it) and one push at a time (a lock file; a concurrent push gets
// conflict).
//
// When the request could be decoded, a report-status answer (the git
// client prints its reasons) is written to w — also when an error is
// returned. The error is an *apperr.Error (bad_request, conflict,
// payload_too_large) or an internal error. On error the repository may hold
// unreferenced objects; the caller discards it.
func ReceivePack(ctx context.Context, body io.Reader, w io.Writer, repoDir string, opt ReceiveOptions) (*Pushed, error) {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	sto, err := openStorage(repoDir)
	if err != nil {
		return nil, err
	}
	unlock, err := lockRepo(repoDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var over atomic.Bool
	var r io.Reader = &countingReader{r: ctxReader{ctx, body}, limit: opt.MaxBytes, over: &over}
	if opt.Gzip {
		zr, err := gzip.NewReader(r)
		if err != nil {
			if over.Load() {
				return nil, tooLarge(opt.MaxBytes)
			}
			return nil, apperr.BadRequestf("The push body is not valid gzip").Wrap(err)
		}
		defer zr.Close()
		r = &countingReader{r: zr, limit: opt.MaxBytes, over: &over}
	}

	req := packp.NewReferenceUpdateRequest()
	if err := req.Decode(r); err != nil {
		if over.Load() {
			return nil, tooLarge(opt.MaxBytes)
		}
		return nil, apperr.BadRequestf("The push request is malformed").Wrap(err)
	}
	rep := &report{enabled: req.Capabilities.Supports(capability.ReportStatus), status: map[plumbing.ReferenceName]string{}}
	for _, c := range req.Commands {
		rep.order = append(rep.order, c.Name)
	}

	if _, err := os.Stat(filepath.Join(repoDir, pushedMarker)); err == nil {
		ae := apperr.Conflictf("This remote already received a push")
		rep.failAll("remote already received a push")
		return nil, rep.write(w, "ok", ae)
	}
	if err := validateCommands(req.Commands); err != nil {
		rep.failAll(err.Message)
		return nil, rep.write(w, "ok", err)
	}

	if req.Packfile != nil {
		pack, err := packcheck.Guard(req.Packfile, opt.MaxObjects)
		if err == nil {
			err = packfile.UpdateObjectStorage(sto, pack)
		}
		_ = req.Packfile.Close()
		var tooMany *packcheck.TooManyObjectsError
		switch {
		case errors.As(err, &tooMany):
			ae := apperr.New(apperr.PayloadTooLarge, "The push has %d objects, more than the limit of %d; push a shallow history", tooMany.Declared, tooMany.Max).
				WithDetails(map[string]any{"limit": tooMany.Max})
			rep.failAll("too many objects")
			return nil, rep.write(w, "too many objects", ae)
		case over.Load():
			ae := tooLarge(opt.MaxBytes)
			rep.failAll("push too large")
			return nil, rep.write(w, ae.Message, ae)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			ae := apperr.BadRequestf("The pushed pack could not be unpacked").Wrap(err)
			rep.failAll("unpack failed")
			return nil, rep.write(w, "unpack failed", ae)
		}
	}

	pushed := &Pushed{}
	var firstErr *apperr.Error
	for _, c := range req.Commands {
		commit, err := gittree.PeelToCommit(sto, c.New)
		if err != nil {
			rep.status[c.Name] = "not a commit or missing objects"
			firstErr = firstOf(firstErr, apperr.BadRequestf("%s does not point at a commit that was pushed", c.Name).Wrap(err))
			continue
		}
		if _, err := sto.Reference(c.Name); err == nil {
			rep.status[c.Name] = "already exists"
			firstErr = firstOf(firstErr, apperr.Conflictf("%s was already pushed to this remote", c.Name))
			continue
		}
		if err := sto.SetReference(plumbing.NewHashReference(c.Name, c.New)); err != nil {
			rep.status[c.Name] = "failed to update ref"
			firstErr = firstOf(firstErr, apperr.New(apperr.Internal, "Could not store %s", c.Name).Wrap(err))
			continue
		}
		rep.status[c.Name] = ""
		pushed.Refs = append(pushed.Refs, PushedRef{Name: c.Name.String(), Hash: c.New.String()})
		if better(c.Name, plumbing.ReferenceName(pushed.Ref)) {
			pushed.Ref, pushed.Commit = c.Name.String(), commit.Hash.String()
		}
	}
	if firstErr != nil {
		return nil, rep.write(w, "ok", firstErr)
	}
	if len(pushed.Refs) == 0 {
		return nil, rep.write(w, "ok", apperr.BadRequestf("The push created no refs"))
	}
	// Mark the remote used before answering, so a racing or later push is
	// refused even if the caller has not recorded this one yet.
	if err := os.WriteFile(filepath.Join(repoDir, pushedMarker), []byte(pushed.Commit+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("mark remote used: %w", err)
	}
	if err := rep.write(w, "ok", nil); err != nil {
		return nil, err
	}
	return pushed, nil
}

// pushedMarker is created in the bare repository once a push landed; the
// remote takes exactly one push.
const pushedMarker = "vega-pushed"

// lockRepo serialises pushes into one repository: a second concurrent push
// is refused rather than queued, since only one may ever succeed.
func lockRepo(repoDir string) (unlock func(), err error) {
	p := filepath.Join(repoDir, "vega-receive.lock")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, apperr.Conflictf("Another push to this remote is in progress")
	}
	if err != nil {
		return nil, fmt.Errorf("lock repository: %w", err)
	}
	_ = f.Close()
	return func() { _ = os.Remove(p) }, nil
}

func firstOf(a, b *apperr.Error) *apperr.Error {
	if a != nil {
		return a
	}
	return b
}

func tooLarge(limit int64) *apperr.Error {
	return apperr.New(apperr.PayloadTooLarge, "Push exceeds the %s limit", apperr.Bytes(limit)).
		WithDetails(map[string]any{"limit": limit})
}

// better reports whether ref a is a better snapshot source than b.
func better(a, b plumbing.ReferenceName) bool {
	rank := func(r plumbing.ReferenceName) int {
		switch {
		case r == "":
			return 99
		case r == plumbing.Main:
			return 0
		case r == plumbing.Master:
			return 1
		case r.IsBranch():
			return 2
		default:
			return 3
		}
	}
	return rank(a) < rank(b)
}

func validateCommands(cmds []*packp.Command) *apperr.Error {
	if len(cmds) > maxRefUpdates {
		return apperr.BadRequestf("A push may create at most %d refs", maxRefUpdates)
	}
	for _, c := range cmds {
		name := c.Name
		if !name.IsBranch() && !name.IsTag() {
			return apperr.BadRequestf("Only branches and tags can be pushed")
		}
		if name.Validate() != nil {
			return apperr.BadRequestf("Invalid ref name")
		}
		if c.New.IsZero() {
			return apperr.BadRequestf("Deleting refs is not supported")
		}
		if !c.Old.IsZero() {
			return apperr.Conflictf("%s was already pushed to this remote", name)
		}
	}
	return nil
}

// report builds the report-status answer. Reasons are fixed phrases, never
// internal error text (which could name local paths).
type report struct {
	enabled bool
	order   []plumbing.ReferenceName
	// status per ref: "" means ok.
	status map[plumbing.ReferenceName]string
}

func (r *report) failAll(reason string) {
	for _, n := range r.order {
		r.status[n] = reason
	}
}

// write encodes the report (if the client asked for one) and returns err
// unless writing failed.
func (r *report) write(w io.Writer, unpack string, err *apperr.Error) error {
	if !r.enabled {
		if err != nil {
			return err
		}
		return nil
	}
	rs := packp.NewReportStatus()
	rs.UnpackStatus = unpack
	for _, n := range r.order {
		st := "ok"
		if s := r.status[n]; s != "" {
			st = s
		}
		rs.CommandStatuses = append(rs.CommandStatuses, &packp.CommandStatus{ReferenceName: n, Status: st})
	}
	var buf bytes.Buffer
	if werr := rs.Encode(&buf); werr != nil {
		return werr
	}
	if _, werr := w.Write(buf.Bytes()); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	return nil
}

// Checkout writes the tree of commit (a full SHA-1 from Pushed.Commit) from
// the bare repository at repoDir into destDir (created if missing): regular
// files and directories only, no symlinks, nothing outside destDir, no .git.
func Checkout(ctx context.Context, repoDir, commit, destDir string, lim Limits) (Stats, error) {
	if !plumbing.IsHash(commit) {
		return Stats{}, apperr.BadRequestf("Invalid commit id")
	}
	h := plumbing.NewHash(commit)
	sto, err := openStorage(repoDir)
	if err != nil {
		return Stats{}, err
	}
	c, err := gittree.PeelToCommit(sto, h)
	if err != nil {
		return Stats{}, apperr.NotFoundf("Commit %s not found in the pushed repository", commit).Wrap(err)
	}
	if err := os.MkdirAll(destDir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("create destination: %w", err)
	}
	stats, err := gittree.Write(ctx, sto, c, destDir, lim)
	var rej *gittree.RejectError
	if errors.As(err, &rej) {
		return stats, apperr.Text(apperr.ArchiveRejected, rej.Message).WithDetails(map[string]any{"reason": rej.Reason}).Wrap(err)
	}
	return stats, err
}
