package gitsource

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// testRepo is a repository built with go-git in a temp dir.
type testRepo struct {
	dir  string
	repo *git.Repository
}

var testSig = &object.Signature{Name: "Test", Email: "test@example.com", When: time.Unix(1700000000, 0)}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testRepo{dir: dir, repo: r}
}

// commit writes files (path → content) into the worktree and commits them.
func (r *testRepo) commit(t *testing.T, msg string, files map[string]string) plumbing.Hash {
	t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: testSig, Committer: testSig})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (r *testRepo) branch(t *testing.T, name string, create bool) {
	t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: create}); err != nil {
		t.Fatal(err)
	}
}

// gitHTTPServer serves one repository over Git smart HTTP (upload-pack
// only) using go-git's server side, so the tests need no git binary.
type gitHTTPServer struct {
	t        *testing.T
	sto      storer.Storer
	requests atomic.Int64
	// authorize, when set, decides whether a request's credentials are
	// accepted (401 otherwise).
	authorize func(r *http.Request) bool
	// before, when set, runs first and may answer the request itself.
	before func(w http.ResponseWriter, r *http.Request) bool
}

func serveRepo(t *testing.T, r *testRepo) (*gitHTTPServer, *httptest.Server) {
	t.Helper()
	s := &gitHTTPServer{t: t, sto: r.repo.Storer}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

type fixedLoader struct{ sto storer.Storer }

func (l fixedLoader) Load(*transport.Endpoint) (storer.Storer, error) { return l.sto, nil }

func (s *gitHTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.before != nil && s.before(w, r) {
		return
	}
	if s.authorize != nil && !s.authorize(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "denied", http.StatusUnauthorized)
		return
	}
	srv := server.NewServer(fixedLoader{s.sto})
	ep, _ := transport.NewEndpoint("http://test/repo.git")
	sess, err := srv.NewUploadPackSession(ep, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs"):
		if r.URL.Query().Get("service") != "git-upload-pack" {
			http.Error(w, "upload-pack only", http.StatusForbidden)
			return
		}
		ar, err := sess.AdvertisedReferencesContext(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ar.Prefix = [][]byte{[]byte("# service=git-upload-pack"), pktline.Flush}
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		if err := ar.Encode(w); err != nil {
			s.t.Logf("encode advertisement: %v", err)
		}
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
		req := packp.NewUploadPackRequest()
		if err := req.Decode(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := sess.UploadPack(r.Context(), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		if err := resp.Encode(w); err != nil {
			s.t.Logf("encode pack: %v", err)
		}
	default:
		http.NotFound(w, r)
	}
}
