package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vegasec/vega/app/ingest"
)

// The copy holds exactly the selection; a directory of the tree replaced by
// a link to elsewhere after the selection is refused, never read through.
func TestTreeCopy(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	for p, body := range map[string]string{"a/b/c.go": "package c\n", "top.txt": "top\n", "d/e.txt": "e\n"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(body), 0o644)
	}
	os.WriteFile(filepath.Join(outside, "e.txt"), []byte("outside\n"), 0o644)
	sel, err := ingest.SelectTree(context.Background(), root, ingest.SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := (treeCopy{root: root, files: sel.Files}).Unpack(context.Background(), nil, dest); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a/b/c.go", "top.txt", "d/e.txt"} {
		got, err := os.ReadFile(filepath.Join(dest, p))
		want, _ := os.ReadFile(filepath.Join(root, p))
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s: %q %v", p, got, err)
		}
	}

	os.RemoveAll(filepath.Join(root, "d"))
	if err := os.Symlink(outside, filepath.Join(root, "d")); err != nil {
		t.Fatal(err)
	}
	dest2 := t.TempDir()
	if err := (treeCopy{root: root, files: sel.Files}).Unpack(context.Background(), nil, dest2); err == nil {
		t.Fatal("copied through a directory swapped for a link outside the tree")
	}
	if b, err := os.ReadFile(filepath.Join(dest2, "d", "e.txt")); err == nil && len(b) > 0 {
		t.Fatalf("read outside the tree: %q", b)
	}
}
