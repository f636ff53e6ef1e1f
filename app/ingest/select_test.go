package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vegasec/vega/testutil/srctree"
)

// SelectTree applies every directory's ignore files below it, skips .git,
// links, oversized files and names the archive policy refuses.
func TestSelectTree(t *testing.T) {
	src := t.TempDir()
	srctree.WriteFiles(t, src, map[string]string{
		".gitignore":               "*.log\n!keep.log\nbuild/\n",
		"keep.log":                 "kept: negated in its own file",
		"debug.log":                "ignored",
		"build/out.js":             "ignored directory",
		"a/.vegaignore":            "fixtures/\nsecret.txt\n",
		"a/fixtures/k.pem":         "ignored by a nested .vegaignore",
		"a/secret.txt":             "ignored",
		"a/b/secret.txt":           "ignored: the pattern has no slash, so it applies at any depth below a/",
		"a/b/.gitignore":           "*.tmp\n",
		"a/b/x.tmp":                "ignored",
		"a/b/x.go":                 "package x",
		"b/secret.txt":             "kept: a/.vegaignore does not reach b/",
		"b/x.tmp":                  "kept",
		"big.bin":                  strings.Repeat("x", 100),
		".git/config":              "never",
		"sub/.git":                 "gitdir: ../.git/modules/sub",
		"weird/%2e%2e/name.txt":    "refused name",
		"a/b/c/d/e/deep.go":        "package e",
		"a/b/c/d/e/.gitignore":     "deep.go\n",
		"a/b/c/d/e/still_here.txt": "kept",
	})
	os.Symlink("/etc/passwd", filepath.Join(src, "a", "link"))
	os.Symlink(filepath.Join(src, "b"), filepath.Join(src, "linkdir"))

	sel, err := SelectTree(context.Background(), src, SelectOptions{MaxFileBytes: 99})
	if err != nil {
		t.Fatal(err)
	}
	want := ".gitignore a/.vegaignore a/b/.gitignore a/b/c/d/e/.gitignore a/b/c/d/e/still_here.txt a/b/x.go b/secret.txt b/x.tmp keep.log"
	if got := strings.Join(sel.Paths(), " "); got != want {
		t.Fatalf("selected:\n%s\nwant\n%s", got, want)
	}
	if sel.Skipped.Symlinks != 2 || sel.Skipped.Oversized != 1 || sel.Skipped.Special != 1 || sel.Skipped.Ignored != 7 {
		t.Fatalf("skipped: %+v", sel.Skipped)
	}

}
