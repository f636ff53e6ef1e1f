package gitpush

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"

	"github.com/vegasec/vega/app/apperr"

	"github.com/vegasec/vega/testutil/gitfixture"
	"github.com/vegasec/vega/testutil/srctree"
)

// pushServer is a minimal HTTP layer over this package, shaped like the one
// the API must build: token lookup, content types, buffered report.
type pushServer struct {
	t        *testing.T
	token    string
	repoDir  string
	maxBytes int64

	mu      sync.Mutex
	pushed  *Pushed
	lastErr error
}

func (s *pushServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := ParseRequest(r.Method, r.URL.Path, r.URL.Query().Get("service"), "/git/")
	if err != nil {
		ae := apperr.From(err)
		http.Error(w, ae.Message, ae.Code.HTTPStatus())
		return
	}
	if req.Token != s.token {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	switch req.Op {
	case OpAdvertise:
		w.Header().Set("Content-Type", AdvertisementContentType)
		if err := AdvertiseReceivePack(r.Context(), w, s.repoDir); err != nil {
			s.t.Errorf("advertise: %v", err)
		}
	case OpReceive:
		if r.Header.Get("Content-Type") != ReceiveRequestContentType {
			http.Error(w, "bad content type", http.StatusUnsupportedMediaType)
			return
		}
		var buf bytes.Buffer
		pushed, err := ReceivePack(r.Context(), r.Body, &buf, s.repoDir, ReceiveOptions{
			MaxBytes: s.maxBytes,
			Gzip:     r.Header.Get("Content-Encoding") == "gzip",
		})
		s.mu.Lock()
		s.pushed, s.lastErr = pushed, err
		s.mu.Unlock()
		if buf.Len() == 0 && err != nil {
			ae := apperr.From(err)
			http.Error(w, ae.Message, ae.Code.HTTPStatus())
			return
		}
		w.Header().Set("Content-Type", ResultContentType)
		_, _ = w.Write(buf.Bytes())
	}
}

// newBareRepo is an empty bare repository for a push to land in.
func newBareRepo(t *testing.T) string {
	t.Helper()
	repoDir := filepath.Join(t.TempDir(), "bare")
	if err := InitBare(repoDir); err != nil {
		t.Fatal(err)
	}
	return repoDir
}

func newPushServer(t *testing.T, maxBytes int64) (*pushServer, string) {
	t.Helper()
	repoDir := newBareRepo(t)
	s := &pushServer{t: t, token: "gup-token-0123456789", repoDir: repoDir, maxBytes: maxBytes}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL + "/git/" + s.token + ".git"
}

func TestPushWithRealGitClient(t *testing.T) {
	gitfixture.NeedGit(t)
	srv, remote := newPushServer(t, 0)
	work := t.TempDir()
	gitfixture.MustRun(t, work, "init", "-q", "-b", "work")
	srctree.WriteFiles(t, work, map[string]string{"README.md": "hello\n", "src/main.go": "package main\n", "bin/run.sh": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(work, "bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink pointing outside the repository must never be materialised.
	if err := os.Symlink("../../../../etc/passwd", filepath.Join(work, "escape")); err != nil {
		t.Fatal(err)
	}
	gitfixture.MustRun(t, work, "add", "-A")
	gitfixture.MustRun(t, work, "commit", "-q", "-m", "initial")
	gitfixture.MustRun(t, work, "tag", "-a", "v1", "-m", "release")
	head := gitfixture.MustRun(t, work, "rev-parse", "HEAD")

	gitfixture.MustRun(t, work, "push", remote, "HEAD:main", "v1")
	if srv.lastErr != nil {
		t.Fatalf("ReceivePack: %v", srv.lastErr)
	}
	p := srv.pushed
	if p == nil || p.Ref != "refs/heads/main" || p.Commit != head || len(p.Refs) != 2 {
		t.Fatalf("pushed = %+v, want refs/heads/main at %s plus the tag", p, head)
	}

	dest := filepath.Join(t.TempDir(), "tree")
	stats, err := Checkout(context.Background(), srv.repoDir, p.Commit, dest, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Files != 3 || stats.Symlinks != 1 {
		t.Fatalf("stats = %+v, want 3 files and 1 skipped symlink", stats)
	}
	for p, want := range map[string]string{"README.md": "hello\n", "src/main.go": "package main\n"} {
		got, err := os.ReadFile(filepath.Join(dest, p))
		if err != nil || string(got) != want {
			t.Fatalf("%s = %q, %v", p, got, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dest, "bin/run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("run.sh not executable: %v %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(dest, "escape")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("symlink materialised: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, ".git")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf(".git written into the checkout: %v", err)
	}

	// The remote accepts one push per ref: pushing main again is refused
	// and the client shows why.
	srctree.WriteFiles(t, work, map[string]string{"README.md": "again\n"})
	gitfixture.MustRun(t, work, "commit", "-q", "-am", "second")
	wantPushRefused(t, srv, work, remote, apperr.Conflict, "second push")

	// Fetching is refused.
	out, err := gitfixture.Run(t, t.TempDir(), "clone", remote, "c")
	if err == nil || !strings.Contains(out, "403") {
		t.Fatalf("clone from the push remote: err=%v\n%s", err, out)
	}
}

// wantPushRefused pushes work's HEAD to remote with the real client and
// checks that the client failed and the server refused with code.
func wantPushRefused(t *testing.T, srv *pushServer, work, remote string, code apperr.Code, what string) {
	t.Helper()
	out, err := gitfixture.Run(t, work, "push", remote, "HEAD:main")
	if err == nil {
		t.Fatalf("%s accepted:\n%s", what, out)
	}
	if !apperr.IsCode(srv.lastErr, code) {
		t.Fatalf("%s error = %v, want %s", what, srv.lastErr, code)
	}
}

func TestPushSizeCapWithRealGitClient(t *testing.T) {
	gitfixture.NeedGit(t)
	srv, remote := newPushServer(t, 64<<10)
	work := t.TempDir()
	gitfixture.MustRun(t, work, "init", "-q", "-b", "main")
	big := make([]byte, 512<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	srctree.WriteFiles(t, work, map[string]string{"big.bin": string(big)})
	gitfixture.MustRun(t, work, "add", "-A")
	gitfixture.MustRun(t, work, "commit", "-q", "-m", "big")
	wantPushRefused(t, srv, work, remote, apperr.PayloadTooLarge, "oversized push")
	if srv.pushed != nil {
		t.Fatal("oversized push reported as pushed")
	}
}

// hostileRepo builds objects in memory the way an attacker could craft
// them, bypassing any client-side checks.
type hostileRepo = gitfixture.Objects

// pushBody encodes a receive-pack request creating refs/heads/main at
// commit, with every object in the store in the pack.
func pushBody(t testing.TB, h *hostileRepo, commit plumbing.Hash) []byte {
	t.Helper()
	var hashes []plumbing.Hash
	iter, _ := h.Sto.IterEncodedObjects(plumbing.AnyObject)
	_ = iter.ForEach(func(o plumbing.EncodedObject) error {
		hashes = append(hashes, o.Hash())
		return nil
	})
	var pack bytes.Buffer
	if _, err := packfile.NewEncoder(&pack, h.Sto, false).Encode(hashes, 10); err != nil {
		t.Fatal(err)
	}
	req := packp.NewReferenceUpdateRequest()
	_ = req.Capabilities.Set(capability.ReportStatus)
	req.Commands = []*packp.Command{{Name: plumbing.Main, Old: plumbing.ZeroHash, New: commit}}
	req.Packfile = io.NopCloser(&pack)
	var body bytes.Buffer
	if err := req.Encode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Bytes()
}

func TestHostilePushedTreesNeverEscape(t *testing.T) {
	type build func(h *hostileRepo) plumbing.Hash
	file := func(h *hostileRepo, name string) object.TreeEntry {
		return gitfixture.File(name, h.Blob("pwned\n"))
	}
	cases := []struct {
		name   string
		tree   build
		reason string // "" = checkout succeeds
	}{
		{"dotdot", func(h *hostileRepo) plumbing.Hash { return h.Tree(file(h, "..")) }, "path_traversal"},
		{"dotdot in name", func(h *hostileRepo) plumbing.Hash { return h.Tree(file(h, "../../evil")) }, "path_traversal"},
		{"slash in name", func(h *hostileRepo) plumbing.Hash { return h.Tree(file(h, "a/../../evil")) }, "path_traversal"},
		{"absolute", func(h *hostileRepo) plumbing.Hash { return h.Tree(file(h, "/tmp/evil")) }, "path_traversal"},
		{"dot git", func(h *hostileRepo) plumbing.Hash {
			hooks := h.Tree(file(h, "post-checkout"))
			return h.Tree(object.TreeEntry{Name: ".GIT", Mode: filemode.Dir, Hash: hooks})
		}, "path_traversal"},
		{"nested dotdot dir", func(h *hostileRepo) plumbing.Hash {
			inner := h.Tree(file(h, "evil"))
			return h.Tree(object.TreeEntry{Name: "..", Mode: filemode.Dir, Hash: inner})
		}, "path_traversal"},
		{"duplicate names", func(h *hostileRepo) plumbing.Hash {
			return h.Tree(file(h, "a"), file(h, "a"))
		}, "duplicate_entry"},
		{"symlink then dir of same name", func(h *hostileRepo) plumbing.Hash {
			inner := h.Tree(file(h, "passwd"))
			return h.Tree(
				object.TreeEntry{Name: "etc", Mode: filemode.Symlink, Hash: h.Blob("/etc")},
				object.TreeEntry{Name: "etc", Mode: filemode.Dir, Hash: inner},
			)
		}, ""},
		{"symlink out", func(h *hostileRepo) plumbing.Hash {
			return h.Tree(object.TreeEntry{Name: "link", Mode: filemode.Symlink, Hash: h.Blob("../../../../")}, file(h, "ok.txt"))
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := gitfixture.NewObjects(t)
			commit := h.Commit(tc.tree(h))
			repoDir := newBareRepo(t)
			var out bytes.Buffer
			pushed, err := ReceivePack(context.Background(), bytes.NewReader(pushBody(t, h, commit)), &out, repoDir, ReceiveOptions{})
			if err != nil {
				t.Fatalf("ReceivePack: %v", err)
			}
			if !strings.Contains(out.String(), "unpack ok") {
				t.Fatalf("report = %q", out.String())
			}
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			stats, err := Checkout(context.Background(), repoDir, pushed.Commit, dest, Limits{})
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Checkout: %v", err)
				}
				if stats.Symlinks != 1 {
					t.Fatalf("stats = %+v", stats)
				}
			} else {
				ae := &apperr.Error{}
				if !errors.As(err, &ae) || ae.Code != apperr.ArchiveRejected || ae.Details["reason"] != tc.reason {
					t.Fatalf("Checkout error = %v, want archive_rejected/%s", err, tc.reason)
				}
			}
			// Nothing outside dest, and no symlink anywhere.
			_ = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if p != parent && p != dest && !strings.HasPrefix(p, dest+string(filepath.Separator)) {
					t.Errorf("written outside the destination: %s", p)
				}
				if d.Type()&fs.ModeSymlink != 0 {
					t.Errorf("symlink materialised: %s", p)
				}
				return nil
			})
			if _, err := os.Stat(filepath.Join(parent, "evil")); err == nil {
				t.Error("evil escaped into the parent")
			}
		})
	}
}

func TestReceivePackGzipAndRefusals(t *testing.T) {
	h := gitfixture.NewObjects(t)
	commit := h.Commit(h.Tree(gitfixture.File("a.txt", h.Blob("a\n"))))
	body := pushBody(t, h, commit)

	repoDir := newBareRepo(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	var out bytes.Buffer
	pushed, err := ReceivePack(context.Background(), &gz, &out, repoDir, ReceiveOptions{Gzip: true})
	if err != nil || pushed.Commit != commit.String() || pushed.Ref != "refs/heads/main" {
		t.Fatalf("gzip push = %+v, %v", pushed, err)
	}
	if !strings.Contains(out.String(), "ok refs/heads/main") {
		t.Fatalf("report = %q", out.String())
	}

	// The advertisement now lists the ref.
	var adv bytes.Buffer
	if err := AdvertiseReceivePack(context.Background(), &adv, repoDir); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(adv.String(), "# service=git-receive-pack") || !strings.Contains(adv.String(), commit.String()+" refs/heads/main") {
		t.Fatalf("advertisement = %q", adv.String())
	}

	// Same ref again: conflict, reported in-band.
	out.Reset()
	_, err = ReceivePack(context.Background(), bytes.NewReader(body), &out, repoDir, ReceiveOptions{})
	if !apperr.IsCode(err, apperr.Conflict) || !strings.Contains(out.String(), "ng refs/heads/main remote already received a push") {
		t.Fatalf("repeat push: err=%v report=%q", err, out.String())
	}

	// Garbage and a truncated body are bad requests with nothing written.
	for _, b := range [][]byte{[]byte("not a git request"), body[:20]} {
		out.Reset()
		_, err = ReceivePack(context.Background(), bytes.NewReader(b), &out, repoDir, ReceiveOptions{})
		if !apperr.IsCode(err, apperr.BadRequest) {
			t.Fatalf("garbage push: %v", err)
		}
	}
	_, err = ReceivePack(context.Background(), strings.NewReader("x"), &out, repoDir, ReceiveOptions{Gzip: true})
	if !apperr.IsCode(err, apperr.BadRequest) {
		t.Fatalf("bad gzip: %v", err)
	}
	// Size cap while decoding.
	fresh := filepath.Join(t.TempDir(), "bare")
	_ = InitBare(fresh)
	_, err = ReceivePack(context.Background(), bytes.NewReader(body), io.Discard, fresh, ReceiveOptions{MaxBytes: int64(len(body) / 2)})
	if !apperr.IsCode(err, apperr.PayloadTooLarge) {
		t.Fatalf("size cap: %v", err)
	}
}

func TestParseRequest(t *testing.T) {
	cases := []struct {
		method, path, service string
		op                    Op
		code                  apperr.Code
	}{
		{"GET", "/git/abc.git/info/refs", "git-receive-pack", OpAdvertise, ""},
		{"POST", "/git/abc.git/git-receive-pack", "", OpReceive, ""},
		{"GET", "/git/abc.git/info/refs", "git-upload-pack", 0, apperr.Forbidden},
		{"POST", "/git/abc.git/git-upload-pack", "", 0, apperr.Forbidden},
		{"GET", "/git/abc.git/HEAD", "", 0, apperr.NotFound},
		{"GET", "/git/.git/info/refs", "git-receive-pack", 0, apperr.NotFound},
		{"GET", "/git/a/b.git/info/refs", "git-receive-pack", 0, apperr.NotFound},
		{"GET", "/v1/abc.git/info/refs", "git-receive-pack", 0, apperr.NotFound},
	}
	for _, tc := range cases {
		req, err := ParseRequest(tc.method, tc.path, tc.service, "/git/")
		if tc.code == "" {
			if err != nil || req.Op != tc.op || req.Token != "abc" {
				t.Errorf("%s %s = %+v, %v", tc.method, tc.path, req, err)
			}
			continue
		}
		if !apperr.IsCode(err, tc.code) {
			t.Errorf("%s %s: err = %v, want %s", tc.method, tc.path, err, tc.code)
		}
	}
}

func TestReceivePackRefusesConcurrentPush(t *testing.T) {
	repoDir := newBareRepo(t)
	unlock, err := lockRepo(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReceivePack(context.Background(), strings.NewReader(""), io.Discard, repoDir, ReceiveOptions{})
	if !apperr.IsCode(err, apperr.Conflict) {
		t.Fatalf("push during another push: %v", err)
	}
	unlock()
	_, err = ReceivePack(context.Background(), strings.NewReader("garbage"), io.Discard, repoDir, ReceiveOptions{})
	if !apperr.IsCode(err, apperr.BadRequest) {
		t.Fatalf("after unlock: %v", err)
	}
}

// FuzzReceivePack feeds arbitrary bodies to ReceivePack and checks the
// invariants that matter for hostile input: no panic, typed errors, and
// any accepted push checks out without escaping the destination.
func FuzzReceivePack(f *testing.F) {
	h := gitfixture.NewObjects(f)
	commit := h.Commit(h.Tree(gitfixture.File("a.txt", h.Blob("a\n"))))
	f.Add(pushBody(f, h, commit))
	f.Add([]byte("0000"))
	f.Add([]byte("00a0" + strings.Repeat("0", 40) + " " + strings.Repeat("1", 40) + " refs/heads/main\x00report-status\n0000PACK"))
	f.Fuzz(func(t *testing.T, body []byte) {
		parent := t.TempDir()
		repoDir := filepath.Join(parent, "bare")
		if err := InitBare(repoDir); err != nil {
			t.Fatal(err)
		}
		type result struct {
			p   *Pushed
			err error
		}
		done := make(chan result, 1)
		go func() {
			p, err := ReceivePack(context.Background(), bytes.NewReader(body), io.Discard, repoDir, ReceiveOptions{MaxBytes: 1 << 20})
			done <- result{p, err}
		}()
		var res result
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("ReceivePack hangs on %q", body)
		}
		pushed, err := res.p, res.err
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		dest := filepath.Join(parent, "dest")
		cdone := make(chan struct{})
		go func() {
			_, _ = Checkout(context.Background(), repoDir, pushed.Commit, dest, Limits{MaxEntries: 1000, MaxTotalBytes: 1 << 20})
			close(cdone)
		}()
		select {
		case <-cdone:
		case <-time.After(5 * time.Second):
			t.Fatalf("Checkout hangs on %q", body)
		}
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if e.Name() != "bare" && e.Name() != "dest" {
				t.Fatalf("wrote %s outside the destination", e.Name())
			}
		}
	})
}

// A 12-byte pack header declaring 2^32-1 objects used to make go-git's index
// writer preallocate 128 GiB; it must be refused up front.
func TestReceivePackRefusesAbsurdObjectCount(t *testing.T) {
	repoDir := newBareRepo(t)
	cmd := strings.Repeat("0", 40) + " " + strings.Repeat("1", 40) + " refs/heads/main\x00report-status\n"
	var body bytes.Buffer
	fmt.Fprintf(&body, "%04x%s0000PACK\x00\x00\x00\x02\xff\xff\xff\xff", len(cmd)+4, cmd)
	var out bytes.Buffer
	_, err := ReceivePack(context.Background(), &body, &out, repoDir, ReceiveOptions{})
	if !apperr.IsCode(err, apperr.PayloadTooLarge) || !strings.Contains(out.String(), "too many objects") {
		t.Fatalf("err = %v, report = %q", err, out.String())
	}
}
