package secrets

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vegasec/vega/app/apperr"
)

// target is one regular file to scan.
type target struct {
	Rel  string // repository-relative, forward slashes
	Abs  string
	Size int64
}

// walkStats counts what the walk deliberately left out.
type walkStats struct {
	Symlinks  int
	Special   int // sockets, devices, FIFOs: opening a FIFO would block forever
	Ignored   int // gitleaks' global path allowlist (lock files, images, vendored deps, .git)
	Oversized int
	Empty     int
	Missing   []string // scope paths that do not exist in the snapshot
}

// normalizeScope validates scope paths (relative to the source root) and
// drops entries nested under another. An empty result means the whole tree.
// Absolute paths and paths climbing out of the root are rejected: the scope
// comes from an API caller and must never widen the scan beyond the snapshot.
func normalizeScope(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		raw := p
		p = strings.ReplaceAll(strings.TrimSpace(p), `\`, "/")
		if p == "" {
			continue
		}
		if path.IsAbs(p) || filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
			return nil, apperr.Validation(map[string]string{"paths": "scope path " + quote(raw) + " must be relative to the repository root"})
		}
		p = path.Clean(p)
		if p == ".." || strings.HasPrefix(p, "../") {
			return nil, apperr.Validation(map[string]string{"paths": "scope path " + quote(raw) + " leaves the repository"})
		}
		if p == "." {
			return nil, nil // the whole tree
		}
		out = append(out, p)
	}
	sort.Strings(out)
	kept := out[:0]
	for _, p := range out {
		if n := len(kept); n > 0 && (p == kept[n-1] || strings.HasPrefix(p, kept[n-1]+"/")) {
			continue
		}
		kept = append(kept, p)
	}
	return kept, nil
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return `"` + s + `"`
}

// walkOptions configures listTargets.
type walkOptions struct {
	MaxFileBytes int64
	// Skip reports repository-relative paths that are never scanned
	// (gitleaks' global path allowlist).
	Skip func(rel string) bool
}

// listTargets lists the regular files under root within scope. Symlinks are
// never followed, neither as entries nor as components of a scope path.
func listTargets(ctx context.Context, root string, scope []string, opt walkOptions) ([]target, walkStats, error) {
	var (
		stats   walkStats
		targets []target
	)
	if len(scope) == 0 {
		scope = []string{"."}
	}
	for _, s := range scope {
		start, ok, err := resolveScope(root, s)
		if err != nil {
			return nil, stats, err
		}
		if !ok {
			stats.Missing = append(stats.Missing, s)
			continue
		}
		err = filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if err != nil {
				// Unreadable entries are skipped, not fatal: one bad
				// directory must not lose the rest of the scan.
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			rel, rerr := filepath.Rel(root, p)
			if rerr != nil {
				return rerr
			}
			rel = filepath.ToSlash(rel)
			typ := d.Type()
			switch {
			case d.IsDir():
				if rel != "." && opt.Skip != nil && opt.Skip(rel) {
					return filepath.SkipDir
				}
				return nil
			case typ&fs.ModeSymlink != 0:
				stats.Symlinks++
				return nil
			case !typ.IsRegular():
				stats.Special++
				return nil
			}
			if opt.Skip != nil && opt.Skip(rel) {
				stats.Ignored++
				return nil
			}
			info, ierr := d.Info()
			if ierr != nil {
				return nil // vanished between listing and stat
			}
			switch size := info.Size(); {
			case size == 0:
				stats.Empty++
			case opt.MaxFileBytes > 0 && size > opt.MaxFileBytes:
				stats.Oversized++
			default:
				targets = append(targets, target{Rel: rel, Abs: p, Size: size})
			}
			return nil
		})
		if err != nil {
			return nil, stats, err
		}
	}
	return targets, stats, nil
}

// resolveScope joins a normalised scope path to root, refusing to pass
// through a symlink at any component (a link named in the scope could point
// anywhere on the host). ok is false when the path does not exist.
func resolveScope(root, scope string) (string, bool, error) {
	if scope == "." {
		return root, true, nil
	}
	cur := root
	for _, part := range strings.Split(scope, "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return "", false, nil
		}
	}
	return cur, true, nil
}
