package gitsource

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/testutil/gitfixture"
)

func appErr(t *testing.T, err error) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error is %T (%v), want *apperr.Error", err, err)
	}
	return ae
}

func wantCode(t *testing.T, err error, code apperr.Code, msgPart string) *apperr.Error {
	t.Helper()
	ae := appErr(t, err)
	if ae.Code != code {
		t.Fatalf("code = %s (%v), want %s", ae.Code, err, code)
	}
	if msgPart != "" && !strings.Contains(ae.Message, msgPart) {
		t.Fatalf("message %q does not contain %q", ae.Message, msgPart)
	}
	return ae
}

func readFile(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// fixture builds a repository with a default branch, a feature branch and
// two tags, and serves it.
type fixture struct {
	repo                          *testRepo
	srv                           *gitHTTPServer
	url                           string
	mainHead, featureHead, tagged plumbing.Hash
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	r := newTestRepo(t)
	tagged := r.commit(t, "first", map[string]string{"README.md": "v1\n", "src/app.go": "package app\n"})
	if _, err := r.repo.CreateTag("v1.0", tagged, &git.CreateTagOptions{Tagger: testSig, Message: "release"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.repo.CreateTag("light", tagged, nil); err != nil {
		t.Fatal(err)
	}
	mainHead := r.commit(t, "second", map[string]string{"README.md": "v2\n"})
	r.branch(t, "feature/x", true)
	featureHead := r.commit(t, "feature", map[string]string{"feature.txt": "feature\n"})
	r.branch(t, "main", false)
	srv, ts := serveRepo(t, r)
	return &fixture{repo: r, srv: srv, url: ts.URL + "/org/repo.git", mainHead: mainHead, featureHead: featureHead, tagged: tagged}
}

func TestCloneRefs(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, ref string
		commit    plumbing.Hash
		readme    string
		feature   bool
	}{
		{"default branch", "", f.mainHead, "v2\n", false},
		{"branch", "feature/x", f.featureHead, "v2\n", true},
		{"full branch ref", "refs/heads/main", f.mainHead, "v2\n", false},
		{"annotated tag", "v1.0", f.tagged, "v1\n", false},
		{"lightweight tag", "light", f.tagged, "v1\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "src")
			res, err := CloneRepo(context.Background(), CloneOptions{URL: f.url, Ref: tc.ref, AllowPrivateHosts: true}, dest)
			if err != nil {
				t.Fatal(err)
			}
			if res.Commit != tc.commit.String() {
				t.Fatalf("commit = %s, want %s", res.Commit, tc.commit)
			}
			if got := readFile(t, dest, "README.md"); got != tc.readme {
				t.Fatalf("README.md = %q, want %q", got, tc.readme)
			}
			if got := readFile(t, dest, "src/app.go"); got != "package app\n" {
				t.Fatalf("src/app.go = %q", got)
			}
			_, err = os.Stat(filepath.Join(dest, "feature.txt"))
			if tc.feature != (err == nil) {
				t.Fatalf("feature.txt present = %v, want %v", err == nil, tc.feature)
			}
			// The object store is a real repository pointing at the commit.
			r, err := git.PlainOpen(dest)
			if err != nil {
				t.Fatal(err)
			}
			head, err := r.Head()
			if err != nil || head.Hash() != tc.commit {
				t.Fatalf("HEAD = %v, %v; want %s", head, err, tc.commit)
			}
		})
	}
	sha, err := Clone(context.Background(), CloneOptions{URL: f.url, AllowPrivateHosts: true}, t.TempDir())
	if err != nil || sha != f.mainHead.String() {
		t.Fatalf("Clone = %q, %v", sha, err)
	}
}

func TestCloneUnknownRef(t *testing.T) {
	f := newFixture(t)
	_, err := Clone(context.Background(), CloneOptions{URL: f.url, Ref: "nope", AllowPrivateHosts: true}, t.TempDir())
	wantCode(t, err, apperr.GitCloneFailed, `reference "nope" not found`)
}

func TestCloneRejectsBadInput(t *testing.T) {
	for _, u := range []string{"ssh://git@github.com/a/b.git", "git://github.com/a/b.git", "file:///etc", "git@github.com:a/b.git", "/tmp/repo", "https://", "https://github.com/a/b?x=1"} {
		_, err := Clone(context.Background(), CloneOptions{URL: u}, t.TempDir())
		wantCode(t, err, apperr.ValidationFailed, "")
	}
	for _, ref := range []string{"--upload-pack=evil", "a..b", "a b", "x\x00y"} {
		_, err := Clone(context.Background(), CloneOptions{URL: "https://github.com/a/b.git", Ref: ref}, t.TempDir())
		wantCode(t, err, apperr.ValidationFailed, "")
	}
}

func TestCloneLoopbackNeedsAllowPrivateHosts(t *testing.T) {
	f := newFixture(t)
	_, err := Clone(context.Background(), CloneOptions{URL: f.url}, t.TempDir())
	wantCode(t, err, apperr.HostNotAllowed, "loopback or private")
	local := strings.Replace(f.url, "127.0.0.1", "localhost", 1)
	_, err = Clone(context.Background(), CloneOptions{URL: local}, t.TempDir())
	wantCode(t, err, apperr.HostNotAllowed, "")
	if n := f.srv.requests.Load(); n != 0 {
		t.Fatalf("server saw %d requests; refused clones must not connect", n)
	}
	if _, err := Clone(context.Background(), CloneOptions{URL: local, AllowPrivateHosts: true}, t.TempDir()); err != nil {
		t.Fatalf("loopback with AllowPrivateHosts: %v", err)
	}
}

func TestCloneMetadataNeverAllowed(t *testing.T) {
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data.git",
		"http://169.254.10.1/x.git",
		"http://[fd00:ec2::254]/x.git",
		"http://[::ffff:169.254.169.254]/x.git",
		"http://[64:ff9b::a9fe:a9fe]/x.git",
		"http://100.100.100.200/x.git",
		"http://metadata.google.internal/x.git",
		"http://METADATA.GOOGLE.INTERNAL./x.git",
		"http://0.0.0.0/x.git",
		"http://[fe80::1%25eth0]/x.git",
		"http://224.0.0.1/x.git",
	} {
		_, err := Clone(context.Background(), CloneOptions{URL: u, AllowPrivateHosts: true, Timeout: 5 * time.Second}, t.TempDir())
		wantCode(t, err, apperr.HostNotAllowed, "")
	}
}

func TestCloneRedirectToForbiddenHost(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		target string
		code   apperr.Code
	}{
		{"http://169.254.169.254/repo.git/info/refs?service=git-upload-pack", apperr.HostNotAllowed},
		{"http://[fd00:ec2::254]/repo.git/info/refs?service=git-upload-pack", apperr.HostNotAllowed},
		// go-git refuses a scheme change itself, before our hook runs.
		{"ftp://example.com/repo.git/info/refs?service=git-upload-pack", apperr.GitCloneFailed},
	} {
		f.srv.before = func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, tc.target, http.StatusFound)
			return true
		}
		_, err := Clone(context.Background(), CloneOptions{URL: f.url, AllowPrivateHosts: true, Timeout: 5 * time.Second}, t.TempDir())
		wantCode(t, err, tc.code, "")
	}
}

// scriptedResolver answers lookups from a script, one answer per call
// (the last repeats), to simulate DNS rebinding.
type scriptedResolver struct {
	mu      sync.Mutex
	answers [][]netip.Addr
	calls   int
}

func (r *scriptedResolver) LookupNetIP(_ context.Context, _, _ string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := min(r.calls, len(r.answers)-1)
	r.calls++
	return r.answers[i], nil
}

func TestCloneDNSRebindingRefused(t *testing.T) {
	f := newFixture(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.Split(f.url, "/org")[0], "http://"))
	res := &scriptedResolver{answers: [][]netip.Addr{
		{netip.MustParseAddr("93.184.216.34")}, // first lookup: public
		{netip.MustParseAddr("127.0.0.1")},     // at connect time: loopback
	}}
	_, err := cloner{resolver: res}.clone(context.Background(),
		CloneOptions{URL: "http://git.example.test:" + port + "/org/repo.git", Timeout: 5 * time.Second}, t.TempDir())
	wantCode(t, err, apperr.HostNotAllowed, "")
	if n := f.srv.requests.Load(); n != 0 {
		t.Fatalf("server saw %d requests after rebinding", n)
	}
}

// The Control hook is the last line: it sees the address really dialled,
// whatever any resolver said.
func TestDialControlChecksActualAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	g := &hostGuard{resolver: net.DefaultResolver}
	d := &net.Dialer{Control: g.control("public.example"), Timeout: 2 * time.Second}
	_, err = d.Dial("tcp", ln.Addr().String())
	var blocked *hostBlockedError
	if !errors.As(err, &blocked) {
		t.Fatalf("dial to loopback: err = %v, want hostBlockedError", err)
	}
	if err := g.control("x")("tcp", "93.184.216.34:443", nil); err != nil {
		t.Fatalf("public address refused: %v", err)
	}
	g.allowPrivate = true
	if err := g.control("x")("tcp6", "[fd00:ec2::254]:80", nil); err == nil {
		t.Fatal("IPv6 metadata address allowed")
	}
}

func TestCloneTokenUsedAndNeverEchoed(t *testing.T) {
	f := newFixture(t)
	const token = "s3cr3t-token-value"
	f.srv.authorize = func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == "x-access-token" && p == token
	}
	if _, err := Clone(context.Background(), CloneOptions{URL: f.url, Token: token, AllowPrivateHosts: true}, t.TempDir()); err != nil {
		t.Fatalf("clone with token: %v", err)
	}
	const wrong = "wrong-token-0123456789"
	_, err := Clone(context.Background(), CloneOptions{URL: f.url, Token: wrong, AllowPrivateHosts: true}, t.TempDir())
	ae := wantCode(t, err, apperr.GitCloneFailed, "repository not found or access denied")
	if strings.Contains(err.Error(), wrong) || strings.Contains(ae.Message, wrong) {
		t.Fatalf("token leaked in error: %v", err)
	}
	// Credentials pasted into the URL are used but never echoed either.
	withCreds := strings.Replace(f.url, "http://", "http://someone:url-pass-987654@", 1)
	_, err = Clone(context.Background(), CloneOptions{URL: withCreds, AllowPrivateHosts: true}, t.TempDir())
	wantCode(t, err, apperr.GitCloneFailed, "access denied")
	if strings.Contains(err.Error(), "url-pass-987654") {
		t.Fatalf("URL password leaked in error: %v", err)
	}
	clean, err := ParseURL(withCreds)
	if err != nil || strings.Contains(clean, "url-pass") || strings.Contains(clean, "someone") {
		t.Fatalf("ParseURL = %q, %v", clean, err)
	}
}

func TestCloneSizeCap(t *testing.T) {
	r := newTestRepo(t)
	big := make([]byte, 1<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	r.commit(t, "big", map[string]string{"blob.bin": string(big)})
	_, ts := serveRepo(t, r)
	dest := t.TempDir()
	_, err := Clone(context.Background(), CloneOptions{URL: ts.URL + "/r.git", AllowPrivateHosts: true, MaxBytes: 64 << 10}, dest)
	ae := wantCode(t, err, apperr.GitCloneFailed, "clone exceeded 64.0 KiB limit")
	if ae.Details["reason"] != "too_large" {
		t.Fatalf("details = %v", ae.Details)
	}
	if _, err := os.Stat(filepath.Join(dest, "blob.bin")); err == nil {
		t.Fatal("working tree written despite the size cap")
	}
	// The same repository fits a cap above its size.
	if _, err := Clone(context.Background(), CloneOptions{URL: ts.URL + "/r.git", AllowPrivateHosts: true, MaxBytes: 4 << 20}, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

func TestCloneTimeout(t *testing.T) {
	f := newFixture(t)
	f.srv.before = func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return true
	}
	start := time.Now()
	_, err := Clone(context.Background(), CloneOptions{URL: f.url, AllowPrivateHosts: true, Timeout: 300 * time.Millisecond}, t.TempDir())
	wantCode(t, err, apperr.GitCloneFailed, "clone timed out after 300ms")
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("timeout took %s", el)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error does not unwrap to DeadlineExceeded: %v", err)
	}
}

func TestCloneUnreachableAndMissing(t *testing.T) {
	f := newFixture(t)
	f.srv.before = func(w http.ResponseWriter, r *http.Request) bool {
		http.NotFound(w, r)
		return true
	}
	_, err := Clone(context.Background(), CloneOptions{URL: f.url, AllowPrivateHosts: true}, t.TempDir())
	wantCode(t, err, apperr.GitCloneFailed, "repository not found or access denied")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Clone(context.Background(), CloneOptions{URL: "http://" + addr + "/r.git", AllowPrivateHosts: true}, t.TempDir())
	wantCode(t, err, apperr.GitCloneFailed, "could not connect")
}

// TestCloneFromGitHTTPBackend clones from the stock `git http-backend`
// (when git is installed), which, unlike the go-git test server, advertises
// shallow and side-band-64k like GitHub and GitLab do: the depth-1 and
// side-band paths are exercised against the real implementation.
func TestCloneFromGitHTTPBackend(t *testing.T) {
	gitBin := gitfixture.NeedGit(t)
	r := newTestRepo(t)
	first := r.commit(t, "first", map[string]string{"a.txt": "one\n"})
	second := r.commit(t, "second", map[string]string{"a.txt": "two\n", "dir/b.txt": "b\n"})
	h := &cgi.Handler{
		Path: gitBin,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(r.dir),
			"GIT_HTTP_EXPORT_ALL=1",
			"HOME=" + t.TempDir(),
			"GIT_CONFIG_NOSYSTEM=1",
		},
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	url := ts.URL + "/" + filepath.Base(r.dir) + "/.git"

	dest := t.TempDir()
	res, err := CloneRepo(context.Background(), CloneOptions{URL: url, AllowPrivateHosts: true}, dest)
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit != second.String() || res.Ref != "refs/heads/main" {
		t.Fatalf("result = %+v, want main at %s", res, second)
	}
	if got := readFile(t, dest, "dir/b.txt"); got != "b\n" {
		t.Fatalf("dir/b.txt = %q", got)
	}
	// Depth 1: the parent commit was not transferred, and it is recorded
	// as a shallow boundary.
	cloned, err := git.PlainOpen(dest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloned.CommitObject(first); err == nil {
		t.Fatal("parent commit present: clone was not shallow")
	}
	shallow, err := cloned.Storer.Shallow()
	if err != nil || len(shallow) != 1 || shallow[0] != second {
		t.Fatalf("shallow = %v, %v", shallow, err)
	}
}

func TestCloneRefusesAbsurdPackHeader(t *testing.T) {
	f := newFixture(t)
	f.srv.before = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		_, _ = w.Write([]byte("0008NAK\nPACK\x00\x00\x00\x02\xff\xff\xff\xff"))
		return true
	}
	_, err := Clone(context.Background(), CloneOptions{URL: f.url, AllowPrivateHosts: true}, t.TempDir())
	wantCode(t, err, apperr.GitCloneFailed, "more than the limit")
}

// answerResolver answers every lookup with the same addresses or error.
type answerResolver struct {
	addrs []netip.Addr
	err   error
}

func (r answerResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return r.addrs, r.err
}

// A name that does not resolve and a name that resolves to a private or
// metadata address get the same answer, so ingest errors are no oracle for
// internal DNS names; only the wrapped cause (logged) says which it was.
func TestCloneHostErrorsAreNoDNSOracle(t *testing.T) {
	answers := map[string]answerResolver{
		"no such host": {err: &net.DNSError{Err: "no such host", Name: "git.corp.example", IsNotFound: true}},
		"no addresses": {},
		"dns timeout":  {err: &net.DNSError{Err: "i/o timeout", Name: "git.corp.example", IsTimeout: true}},
		"private":      {addrs: []netip.Addr{netip.MustParseAddr("10.1.2.3")}},
		"loopback":     {addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
		"metadata":     {addrs: []netip.Addr{netip.MustParseAddr("169.254.169.254")}},
		"mixed":        {addrs: []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("192.168.0.10")}},
	}
	var first *apperr.Error
	var firstCase string
	for name, res := range answers {
		_, err := cloner{resolver: res}.clone(context.Background(),
			CloneOptions{URL: "https://git.corp.example/team/repo.git", Timeout: 5 * time.Second}, t.TempDir())
		ae := wantCode(t, err, apperr.HostNotAllowed, `host "git.corp.example" does not resolve to an address Vega may connect to`)
		if first == nil {
			first, firstCase = ae, name
			continue
		}
		if ae.Message != first.Message || len(ae.Details) != len(first.Details) {
			t.Errorf("%s answers %q %v; %s answers %q %v", name, ae.Message, ae.Details, firstCase, first.Message, first.Details)
		}
	}
	// The log keeps the difference.
	_, err := cloner{resolver: answers["no such host"]}.clone(context.Background(), CloneOptions{URL: "https://git.corp.example/r.git"}, t.TempDir())
	if !strings.Contains(err.Error(), "does not resolve") {
		t.Errorf("the logged cause lost the reason: %v", err)
	}
	_, err = cloner{resolver: answers["private"]}.clone(context.Background(), CloneOptions{URL: "https://git.corp.example/r.git"}, t.TempDir())
	if !strings.Contains(err.Error(), "loopback or private") {
		t.Errorf("the logged cause lost the reason: %v", err)
	}
}
