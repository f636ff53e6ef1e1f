// Package gitfixture builds git repositories for tests: objects crafted in
// memory (as an attacker could, bypassing client-side checks) and the stock
// git client run hermetically.
package gitfixture

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Objects writes git objects straight into an in-memory store.
type Objects struct {
	t   testing.TB
	Sto *memory.Storage
}

// NewObjects is an empty object store; failures fail t.
func NewObjects(t testing.TB) *Objects { return &Objects{t: t, Sto: memory.NewStorage()} }

// Put encodes and stores any object (tree, commit, tag).
func (o *Objects) Put(v interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	obj := o.Sto.NewEncodedObject()
	if err := v.Encode(obj); err != nil {
		o.t.Fatal(err)
	}
	return o.store(obj)
}

// Blob stores content as a blob.
func (o *Objects) Blob(content string) plumbing.Hash {
	obj := o.Sto.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, _ := obj.Writer()
	_, _ = w.Write([]byte(content))
	_ = w.Close()
	return o.store(obj)
}

func (o *Objects) store(obj plumbing.EncodedObject) plumbing.Hash {
	h, err := o.Sto.SetEncodedObject(obj)
	if err != nil {
		o.t.Fatal(err)
	}
	return h
}

// Tree stores a tree of entries exactly as given (no sorting or checks).
func (o *Objects) Tree(entries ...object.TreeEntry) plumbing.Hash {
	return o.Put(&object.Tree{Entries: entries})
}

// Commit stores a commit of tree with a fixed author and time.
func (o *Objects) Commit(tree plumbing.Hash) plumbing.Hash {
	sig := object.Signature{Name: "x", Email: "x@example.com", When: time.Unix(1700000000, 0)}
	return o.Put(&object.Commit{Author: sig, Committer: sig, Message: "x", TreeHash: tree})
}

// File is a regular-file tree entry.
func File(name string, h plumbing.Hash) object.TreeEntry {
	return object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h}
}

// Dir is a subdirectory tree entry.
func Dir(name string, h plumbing.Hash) object.TreeEntry {
	return object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
}

// NeedGit returns the path of the git client. Without one the test is
// skipped, except under CI=true, where a missing client is a failure (CI must
// install it, .ci/run).
func NeedGit(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git client not installed; CI must install it (.ci/run)")
		}
		t.Skip("git client not installed; this test drives the real client")
	}
	return bin
}

// Run runs the stock git client in dir hermetically (no user or system
// config, fixed identity) and returns its combined output.
func Run(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustRun is Run that fails t on an error and trims the output.
func MustRun(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := Run(t, dir, args...)
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(out)
}
