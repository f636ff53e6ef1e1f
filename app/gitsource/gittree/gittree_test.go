package gittree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/vegasec/vega/testutil/gitfixture"
)

// objs builds a commit's objects in memory.
type objs struct {
	*gitfixture.Objects
	t *testing.T
}

func newObjs(t *testing.T) *objs { return &objs{gitfixture.NewObjects(t), t} }

// commit stores a commit of tree and loads it back.
func (o *objs) commit(tree plumbing.Hash) *object.Commit {
	c, err := object.GetCommit(o.Sto, o.Commit(tree))
	if err != nil {
		o.t.Fatal(err)
	}
	return c
}

func wantReject(t *testing.T, err error, reason string) {
	t.Helper()
	var rej *RejectError
	if !errors.As(err, &rej) || rej.Reason != reason {
		t.Fatalf("err = %v, want RejectError %s", err, reason)
	}
}

func TestWriteRegularTree(t *testing.T) {
	o := newObjs(t)
	sub := o.Tree(gitfixture.File("b.txt", o.Blob("bee\n")))
	root := o.Tree(
		gitfixture.File("a.txt", o.Blob("ay\n")),
		object.TreeEntry{Name: "ln", Mode: filemode.Symlink, Hash: o.Blob("a.txt")},
		object.TreeEntry{Name: "run.sh", Mode: filemode.Executable, Hash: o.Blob("#!/bin/sh\n")},
		gitfixture.Dir("sub", sub),
		object.TreeEntry{Name: "vendor", Mode: filemode.Submodule, Hash: plumbing.NewHash("0123456789012345678901234567890123456789")},
	)
	dest := t.TempDir()
	st, err := Write(context.Background(), o.Sto, o.commit(root), dest, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Files: 3, Dirs: 1, Bytes: int64(len("ay\n") + len("#!/bin/sh\n") + len("bee\n")), Symlinks: 1, Submodules: 1}
	if st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "sub", "b.txt")); string(b) != "bee\n" {
		t.Fatalf("sub/b.txt = %q", b)
	}
	if fi, err := os.Stat(filepath.Join(dest, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("run.sh mode: %v %v", fi, err)
	}
	for _, absent := range []string{"ln", "vendor"} {
		if _, err := os.Lstat(filepath.Join(dest, absent)); err == nil {
			t.Fatalf("%s materialised", absent)
		}
	}
}

func TestWriteLimits(t *testing.T) {
	o := newObjs(t)
	big := o.Blob(strings.Repeat("x", 1000))
	small := o.Blob("s")

	// A tree bomb: one subtree referenced ten times per level, four levels
	// deep, would be 10^4 files; the entry cap stops it early.
	level := o.Tree(gitfixture.File("f", small))
	for range 4 {
		var es []object.TreeEntry
		for i := range 10 {
			es = append(es, gitfixture.Dir(string(rune('a'+i)), level))
		}
		level = o.Tree(es...)
	}
	_, err := Write(context.Background(), o.Sto, o.commit(level), t.TempDir(), Limits{MaxEntries: 500})
	wantReject(t, err, ReasonTooManyEntries)

	// Total size.
	root := o.Tree(gitfixture.File("a", big), gitfixture.File("b", big))
	_, err = Write(context.Background(), o.Sto, o.commit(root), t.TempDir(), Limits{MaxTotalBytes: 1500})
	wantReject(t, err, ReasonTooLarge)

	// Oversized single file: skipped and counted, the rest written.
	root = o.Tree(gitfixture.File("big", big), gitfixture.File("small", small))
	dest := t.TempDir()
	st, err := Write(context.Background(), o.Sto, o.commit(root), dest, Limits{MaxFileBytes: 100})
	if err != nil || st.Oversized != 1 || st.Files != 1 {
		t.Fatalf("stats = %+v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dest, "big")); err == nil {
		t.Fatal("oversized file written")
	}

	// Depth.
	deep := o.Tree(gitfixture.File("f", small))
	for range 10 {
		deep = o.Tree(gitfixture.Dir("d", deep))
	}
	_, err = Write(context.Background(), o.Sto, o.commit(deep), t.TempDir(), Limits{MaxDepth: 5})
	wantReject(t, err, ReasonTooManyEntries)
}

func TestWriteMissingBlobIsCorrupt(t *testing.T) {
	o := newObjs(t)
	root := o.Tree(gitfixture.File("gone", plumbing.NewHash("1111111111111111111111111111111111111111")))
	_, err := Write(context.Background(), o.Sto, o.commit(root), t.TempDir(), Limits{})
	wantReject(t, err, ReasonCorrupt)
}

func TestWriteHonoursContext(t *testing.T) {
	o := newObjs(t)
	root := o.Tree(gitfixture.File("a", o.Blob("a")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Write(ctx, o.Sto, o.commit(root), t.TempDir(), Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\x00b", ".git", ".GIT", ".git.", ".git ", "GIT~1"} {
		if checkName(bad) == nil {
			t.Errorf("checkName(%q) accepted", bad)
		}
	}
	for _, ok := range []string{"a", ".gitignore", ".github", "git", "..a", "a..", "...x"} {
		if err := checkName(ok); err != nil {
			t.Errorf("checkName(%q) = %v", ok, err)
		}
	}
}

func TestPeelToCommit(t *testing.T) {
	o := newObjs(t)
	c := o.commit(o.Tree(gitfixture.File("a", o.Blob("a"))))
	tag1 := o.Put(&object.Tag{Name: "t1", Target: c.Hash, TargetType: plumbing.CommitObject, Message: "m"})
	tag2 := o.Put(&object.Tag{Name: "t2", Target: tag1, TargetType: plumbing.TagObject, Message: "m"})
	got, err := PeelToCommit(o.Sto, tag2)
	if err != nil || got.Hash != c.Hash {
		t.Fatalf("PeelToCommit = %v, %v", got, err)
	}
	if _, err := PeelToCommit(o.Sto, c.TreeHash); err == nil {
		t.Fatal("a tree peeled to a commit")
	}
}
