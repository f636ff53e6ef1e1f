package ingest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	ignore "github.com/sabhiram/go-gitignore"

	"github.com/vegasec/vega/store"
)

// SelectOptions tune SelectTree.
type SelectOptions struct {
	// MaxFileBytes skips (and counts as oversized) files larger than this;
	// zero keeps every file.
	MaxFileBytes int64
}

// SelectedFile is one file SelectTree kept.
type SelectedFile struct {
	Path string `json:"path"` // slash-separated, relative to the root
	Size int64  `json:"size"`
}

// Selection is what `vega scan` scans or uploads from a working tree.
type Selection struct {
	Files      []SelectedFile // sorted by path
	TotalBytes int64
	Skipped    store.SkippedCounts
}

// Paths lists the selected files' paths, sorted.
func (s *Selection) Paths() []string {
	out := make([]string, len(s.Files))
	for i, f := range s.Files {
		out[i] = f.Path
	}
	return out
}

// ignoreFiles are read in every directory of a working tree, in this order,
// so a .vegaignore can add to what .gitignore already excludes.
var ignoreFiles = []string{".gitignore", ignoreFileName}

// SelectTree lists the files of a working tree (a developer's checkout, a
// CI workspace) that `vega scan` takes: every regular file except those under
// a ".git" entry, those that a .gitignore or .vegaignore in their directory
// or any parent excludes, those over opt.MaxFileBytes, and those whose names
// the archive policy would refuse (see cleanEntryName), so the server accepts
// an archive of the selection unchanged. Symlinks are never followed, whether
// they point inside or outside the tree (as in BuildSnapshot); they count as
// Skipped.Symlinks. An ignored directory counts once in Skipped.Ignored.
//
// Ignore files follow gitignore syntax, relative to their own directory; the
// deepest file with a matching pattern decides. A negation ("!x") undoes a
// pattern of the same file only: a nested file cannot re-include what a
// parent's file excluded (documented in README "Vega in CI").
func SelectTree(ctx context.Context, root string, opt SelectOptions) (*Selection, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	sel := &Selection{Files: []SelectedFile{}}
	rules := map[string]*ignore.GitIgnore{} // directory (slash, "" = root) → its rules
	ignored := func(rel string, dir bool) bool {
		name := rel
		if dir {
			name += "/"
		}
		for d := parentOf(rel); ; d = parentOf(d) {
			if gi := rules[d]; gi != nil {
				sub := name
				if d != "" {
					sub = name[len(d)+1:]
				}
				if gi.MatchesPath(sub) {
					return true
				}
			}
			if d == "" {
				return false
			}
		}
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			rules[""] = loadIgnoreFiles(root)
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.Name() == ".git" { // a directory, or the file of a worktree or submodule
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if clean, err := cleanEntryName(rel); err != nil || clean != rel {
			sel.Skipped.Special++
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch mode := d.Type(); {
		case mode&fs.ModeSymlink != 0:
			sel.Skipped.Symlinks++
			return nil
		case mode.IsDir():
			if ignored(rel, true) {
				sel.Skipped.Ignored++
				return fs.SkipDir
			}
			if gi := loadIgnoreFiles(p); gi != nil {
				rules[rel] = gi
			}
			return nil
		case !mode.IsRegular():
			sel.Skipped.Special++
			return nil
		}
		if ignored(rel, false) {
			sel.Skipped.Ignored++
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", rel, err)
		}
		if opt.MaxFileBytes > 0 && fi.Size() > opt.MaxFileBytes {
			sel.Skipped.Oversized++
			return nil
		}
		sel.Files = append(sel.Files, SelectedFile{Path: rel, Size: fi.Size()})
		sel.TotalBytes += fi.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}
	// WalkDir's lexical order is per directory ("a/b" before "a.txt" is not
	// byte order); snapshots want byte order of the whole path.
	sort.Slice(sel.Files, func(i, j int) bool { return sel.Files[i].Path < sel.Files[j].Path })
	return sel, nil
}

// loadIgnoreFiles compiles dir's .gitignore and .vegaignore (regular files
// only, first 256 KiB of each); nil when there are none.
func loadIgnoreFiles(dir string) *ignore.GitIgnore {
	var lines []string
	for _, name := range ignoreFiles {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			continue // missing, a symlink, or unreadable
		}
		st, err := f.Stat()
		if err == nil && st.Mode().IsRegular() {
			body, _ := io.ReadAll(io.LimitReader(f, maxIgnoreFileBytes))
			lines = append(lines, strings.Split(string(body), "\n")...)
		}
		f.Close()
	}
	if len(lines) == 0 {
		return nil
	}
	return ignore.CompileIgnoreLines(lines...)
}
