// Package gitsource clones a repository by URL (docs/limits.md has the errors): https
// or http only, shallow, with every connection and redirect checked against
// an address policy that keeps clones away from loopback/private networks
// (unless allowed) and, always, from link-local and cloud metadata
// addresses. It needs no git executable: the Git smart HTTP protocol is
// spoken by go-git.
//
// Why the protocol is driven at this level instead of git.PlainClone: go-git
// picks the transport for a clone from a process-wide registry
// (client.Protocols). Replacing the http/https entries there would affect
// every clone and push in the process. Opening the upload-pack session on a
// transport built for this clone alone keeps the SSRF guard, the byte budget
// and the credentials scoped to one call, with no global state.
package gitsource

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitsource/gittree"
	"github.com/vegasec/vega/app/gitsource/packcheck"
	"github.com/vegasec/vega/app/textsafe"
)

// Defaults for zero CloneOptions fields: those of VEGA_GIT_CLONE_TIMEOUT_SECONDS
// and VEGA_MAX_SOURCE_BYTES.
const (
	DefaultTimeout  = 10 * time.Minute
	DefaultMaxBytes = 2 << 30
)

// tokenUser is the basic-auth user name that GitHub, GitLab (any name
// works) and Gitea accept alongside a personal access token.
const tokenUser = "x-access-token"

// CloneOptions describes one clone.
type CloneOptions struct {
	// URL is an http(s) repository URL. Credentials in it are used for the
	// clone (when Token is empty) and never stored or echoed.
	URL string
	// Ref is a branch or tag name (short or refs/...); empty means the
	// remote's default branch.
	Ref string
	// Token is sent as HTTP basic auth (x-access-token:<token>).
	Token string
	// AllowPrivateHosts permits loopback and private addresses
	// (VEGA_GIT_ALLOW_PRIVATE_HOSTS). Link-local and metadata addresses
	// are refused regardless.
	AllowPrivateHosts bool
	// Timeout caps the whole clone including checkout (default 10m).
	Timeout time.Duration
	// MaxBytes caps the bytes received from the network (default 2 GiB).
	MaxBytes int64
	// MaxObjects caps the objects the received pack may declare (default
	// packcheck.DefaultMaxObjects).
	MaxObjects uint32
	// Checkout bounds the working tree written to destDir; zero fields
	// take gittree's defaults.
	Checkout gittree.Limits
}

// Result is what a clone produced.
type Result struct {
	// Commit is the full SHA-1 of the checked-out commit.
	Commit string
	// Ref is the full reference name that was cloned (refs/heads/main).
	Ref string
	// Stats says what the checkout wrote and skipped.
	Stats gittree.Stats
}

// Clone shallow-clones opt.URL at opt.Ref into destDir (created if missing)
// and returns the commit SHA. The git objects land in destDir/.git; the
// working tree is written by gittree (no symlinks, nothing outside
// destDir). Errors are *apperr.Error with code host_not_allowed,
// validation_failed or git_clone_failed and never contain credentials.
func Clone(ctx context.Context, opt CloneOptions, destDir string) (commitSHA string, err error) {
	res, err := CloneRepo(ctx, opt, destDir)
	if err != nil {
		return "", err
	}
	return res.Commit, nil
}

// CloneRepo is Clone with the full result.
func CloneRepo(ctx context.Context, opt CloneOptions, destDir string) (*Result, error) {
	return cloner{resolver: net.DefaultResolver}.clone(ctx, opt, destDir)
}

// cloner carries the edges a test may replace (DNS) and the TLS roots.
type cloner struct {
	resolver resolver
	tls      *tls.Config
}

// target is a parsed, credential-free clone URL plus the credentials that
// were separated from it.
type target struct {
	url      *url.URL
	user     string
	password string
}

// ParseURL validates a clone URL the way Clone does and returns it without
// credentials, suitable for storing as the repository's git_url.
func ParseURL(raw string) (string, error) {
	t, err := parseURL(raw)
	if err != nil {
		return "", err
	}
	return t.url.String(), nil
}

func parseURL(raw string) (*target, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, apperr.Validation(map[string]string{"git_url": "must be an absolute http(s) URL such as https://github.com/org/repo.git"})
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
	default:
		return nil, apperr.Validation(map[string]string{"git_url": textsafe.Sprintf("scheme %q is not supported; use https:// (or http://)", u.Scheme)})
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, apperr.Validation(map[string]string{"git_url": "must not carry a query string or fragment"})
	}
	if u.Hostname() == "" {
		return nil, apperr.Validation(map[string]string{"git_url": "has no host"})
	}
	t := &target{}
	if u.User != nil {
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
		u.User = nil
	}
	u.Scheme = strings.ToLower(u.Scheme)
	t.url = u
	return t, nil
}

func (c cloner) clone(ctx context.Context, opt CloneOptions, destDir string) (res *Result, err error) {
	t, err := parseURL(opt.URL)
	if err != nil {
		return nil, err
	}
	if err := validateRef(opt.Ref); err != nil {
		return nil, err
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	secrets := []string{opt.Token, t.password}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()

	guard := &hostGuard{allowPrivate: opt.AllowPrivateHosts, resolver: c.resolver}
	budget := &byteBudget{limit: opt.MaxBytes}
	// Translate whatever went wrong into a typed, credential-free error.
	defer func() {
		if err != nil {
			err = classifyError(err, classifyInput{
				parent: parent, ctx: ctx, budget: budget, opt: opt, secrets: secrets,
			})
		}
	}()

	// Resolve and check the host up front: the common refusal gets a clear
	// error before any connection is attempted. The dialer checks again.
	if _, err := guard.resolve(ctx, t.url.Hostname()); err != nil {
		return nil, err
	}

	httpClient := &http.Client{
		Transport: &http.Transport{
			// No proxy: a proxy would be the address dialled, which would
			// make the address check meaningless.
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := guard.dialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: conn, budget: budget}, nil
			},
			TLSClientConfig:       c.tls,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          2,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: guard.checkRedirect,
	}
	defer httpClient.CloseIdleConnections()

	ep, err := transport.NewEndpoint(t.url.String())
	if err != nil {
		return nil, apperr.Validation(map[string]string{"git_url": "is not a valid repository URL"})
	}
	var auth transport.AuthMethod
	switch {
	case opt.Token != "":
		auth = &githttp.BasicAuth{Username: tokenUser, Password: opt.Token}
	case t.user != "" || t.password != "":
		auth = &githttp.BasicAuth{Username: t.user, Password: t.password}
	}

	tr := githttp.NewClientWithOptions(httpClient, &githttp.ClientOptions{RedirectPolicy: githttp.FollowInitialRedirects})
	sess, err := tr.NewUploadPackSession(ep, auth)
	if err != nil {
		return nil, err
	}
	defer sess.Close()

	adv, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return nil, err
	}
	refName, want, err := pickRef(adv, opt.Ref)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(destDir, 0o755); err != nil {
		return nil, fmt.Errorf("create destination: %w", err)
	}
	sto := filesystem.NewStorage(osfs.New(filepath.Join(destDir, ".git")), cache.NewObjectLRUDefault())
	if err := sto.Init(); err != nil {
		return nil, fmt.Errorf("init object store: %w", err)
	}

	req := packp.NewUploadPackRequestFromCapabilities(adv.Capabilities)
	req.Wants = []plumbing.Hash{want}
	if adv.Capabilities.Supports(capability.Shallow) {
		req.Depth = packp.DepthCommits(1)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return nil, err
		}
	}
	if adv.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return nil, err
		}
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	if len(resp.Shallows) > 0 {
		if err := sto.SetShallow(resp.Shallows); err != nil {
			return nil, err
		}
	}
	pack, err := packcheck.Guard(demux(req.Capabilities, resp), opt.MaxObjects)
	if err != nil {
		return nil, err
	}
	if err := packfile.UpdateObjectStorage(sto, pack); err != nil {
		return nil, err
	}

	commit, err := gittree.PeelToCommit(sto, want)
	if err != nil {
		return nil, &cloneFailure{msg: "the server did not send the requested commit", err: err}
	}
	if err := sto.SetReference(plumbing.NewHashReference(refName, want)); err != nil {
		return nil, err
	}
	if err := sto.SetReference(plumbing.NewHashReference(plumbing.HEAD, commit.Hash)); err != nil {
		return nil, err
	}
	stats, err := gittree.Write(ctx, sto, commit, destDir, opt.Checkout)
	if err != nil {
		return nil, err
	}
	return &Result{Commit: commit.Hash.String(), Ref: refName.String(), Stats: stats}, nil
}

// demux strips the side-band framing when it was negotiated, dropping
// progress messages (they are server-controlled text).
func demux(caps *capability.List, r io.Reader) io.Reader {
	switch {
	case caps.Supports(capability.Sideband64k):
		return sideband.NewDemuxer(sideband.Sideband64k, r)
	case caps.Supports(capability.Sideband):
		return sideband.NewDemuxer(sideband.Sideband, r)
	}
	return r
}

// validateRef refuses ref names that are not plausible git refs before
// anything is sent.
func validateRef(ref string) error {
	if ref == "" {
		return nil
	}
	bad := len(ref) > 255 || strings.HasPrefix(ref, "-") || strings.Contains(ref, "..") ||
		strings.ContainsAny(ref, " ~^:?*[\\\x00\x7f") || strings.HasSuffix(ref, "/") || strings.HasSuffix(ref, ".lock")
	for _, r := range ref {
		if r < 0x20 {
			bad = true
		}
	}
	if bad {
		return apperr.Validation(map[string]string{"git_ref": "is not a valid branch or tag name"})
	}
	return nil
}

// pickRef chooses the advertised reference to clone: the default branch
// (HEAD) when ref is empty, otherwise ref as given if it is a full name,
// else refs/heads/<ref>, then refs/tags/<ref>.
func pickRef(adv *packp.AdvRefs, ref string) (plumbing.ReferenceName, plumbing.Hash, error) {
	refs, err := adv.AllReferences()
	if err != nil {
		return "", plumbing.ZeroHash, err
	}
	if ref == "" {
		head, err := refs.Reference(plumbing.HEAD)
		if err != nil {
			return "", plumbing.ZeroHash, &cloneFailure{msg: "the repository has no default branch; name a branch or tag"}
		}
		if head.Type() == plumbing.SymbolicReference {
			target, err := refs.Reference(head.Target())
			if err != nil {
				return "", plumbing.ZeroHash, &cloneFailure{msg: "the repository's default branch does not exist; name a branch or tag"}
			}
			return target.Name(), target.Hash(), nil
		}
		// Old servers advertise HEAD without a symref: clone the commit.
		return plumbing.HEAD, head.Hash(), nil
	}
	candidates := []plumbing.ReferenceName{
		plumbing.NewBranchReferenceName(ref),
		plumbing.NewTagReferenceName(ref),
	}
	if strings.HasPrefix(ref, "refs/") {
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	}
	for _, name := range candidates {
		if r, err := refs.Reference(name); err == nil && r.Type() == plumbing.HashReference {
			return name, r.Hash(), nil
		}
	}
	return "", plumbing.ZeroHash, &cloneFailure{msg: textsafe.Sprintf("reference %q not found", ref)}
}

// cloneFailure is an internal error whose message is already meant for the
// user.
type cloneFailure struct {
	msg string
	err error
}

func (e *cloneFailure) Error() string { return e.msg }
func (e *cloneFailure) Unwrap() error { return e.err }

type classifyInput struct {
	parent, ctx context.Context
	budget      *byteBudget
	opt         CloneOptions
	secrets     []string
}

// classifyError maps any failure to an *apperr.Error with a useful,
// credential-free message. The order matters: the size and time caps are
// checked first because they surface as arbitrary read errors.
func classifyError(err error, in classifyInput) error {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code == apperr.ValidationFailed {
		return err
	}
	cause := scrub(err, in.secrets)
	fail := func(format string, args ...any) *apperr.Error {
		return apperr.New(apperr.GitCloneFailed, format, args...).Wrap(cause)
	}
	var blocked *hostBlockedError
	var rejected *gittree.RejectError
	var failure *cloneFailure
	var tooMany *packcheck.TooManyObjectsError
	switch {
	case errors.As(err, &blocked):
		return apperr.Text(apperr.HostNotAllowed, blocked.public()).Wrap(cause)
	case in.budget.exceeded():
		return fail("clone exceeded %s limit", apperr.Bytes(in.opt.MaxBytes)).
			WithDetails(map[string]any{"reason": "too_large", "limit": in.opt.MaxBytes})
	case in.parent.Err() != nil:
		return fail("clone was cancelled")
	case in.ctx.Err() != nil:
		return fail("clone timed out after %s", shortDuration(in.opt.Timeout))
	case errors.As(err, &rejected):
		return apperr.Text(apperr.GitCloneFailed, rejected.Message).Wrap(cause).WithDetails(map[string]any{"reason": rejected.Reason})
	case errors.As(err, &failure):
		return apperr.Text(apperr.GitCloneFailed, failure.msg).Wrap(cause)
	case errors.As(err, &tooMany):
		return fail("the repository has %d objects, more than the limit of %d", tooMany.Declared, tooMany.Max).
			WithDetails(map[string]any{"reason": "too_large"})
	case errors.Is(err, packcheck.ErrBadHeader):
		return fail("the server sent an invalid pack")
	case errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed):
		// Hosts answer 401, 403 or 404 for a private repository depending
		// on taste, so the message cannot tell them apart either.
		return fail("repository not found or access denied")
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return fail("the repository is empty")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) { // every lookup goes through the guard; this is a safety net
		blocked := &hostBlockedError{host: dnsErr.Name, reason: "it does not resolve"}
		return apperr.Text(apperr.HostNotAllowed, blocked.public()).Wrap(cause)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fail("could not connect to the repository host")
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return fail("the repository host's TLS certificate is not trusted")
	}
	var httpErr *githttp.Err
	if errors.As(err, &httpErr) {
		return fail("the repository host answered HTTP %d", httpErr.StatusCode())
	}
	if strings.Contains(err.Error(), "http redirect:") {
		return fail("the repository host sent a redirect that cannot be followed")
	}
	return fail("the repository could not be fetched")
}

// scrubbedError carries a cause's text with secrets removed. It does not
// unwrap to the original (which may hold them), except for context errors
// that callers test with errors.Is.
type scrubbedError struct {
	msg string
	ctx error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.ctx }

func scrub(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			msg = strings.ReplaceAll(msg, form, "***")
		}
	}
	out := &scrubbedError{msg: msg}
	switch {
	case errors.Is(err, context.Canceled):
		out.ctx = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		out.ctx = context.DeadlineExceeded
	}
	return out
}

// shortDuration prints 10m instead of 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
