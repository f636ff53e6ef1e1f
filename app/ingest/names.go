package ingest

import (
	"path"
	"strings"
	"unicode/utf8"

	"github.com/vegasec/vega/app/apperr"
)

// Reasons an archive is rejected (details.reason of an archive_rejected error).
const (
	ReasonTooLarge             = "too_large"
	ReasonTooManyEntries       = "too_many_entries"
	ReasonFileTooLarge         = "file_too_large"
	ReasonUncompressedTooLarge = "uncompressed_too_large"
	ReasonPathTraversal        = "path_traversal"
	ReasonAbsolutePath         = "absolute_path"
	ReasonDuplicateEntry       = "duplicate_entry"
	ReasonCorrupt              = "corrupt"
	ReasonUnsupportedFormat    = "unsupported_format"
)

const (
	maxNameBytes      = 4096 // PATH_MAX on Linux
	maxComponentBytes = 255  // NAME_MAX on Linux
)

// cleanEntryName validates an archive entry name and returns it in canonical
// form: slash separated, relative, no "." or empty components, no trailing
// slash. An empty result means the entry names the archive root ("./").
//
// The policy (see the package documentation) is to reject rather than sanitise,
// because a sanitised name could silently collide with another entry:
//   - leading "/", "//" (UNC) or a drive letter "C:"  → absolute_path
//   - any ".." component                               → path_traversal
//   - any backslash (a separator on Windows tools)     → path_traversal
//   - a NUL byte (C-string truncation trick)           → path_traversal
//   - percent-encoded dot, slash, backslash or NUL
//     ("%2e", "%2f", "%5c", "%00"; decoded by some
//     downstream viewers into a traversal)              → path_traversal
//   - invalid UTF-8, other control characters, a name
//     longer than PATH_MAX or a component over NAME_MAX → corrupt
//
// Message texts quote the offending name through %q so control characters
// never reach logs raw.
func cleanEntryName(name string) (string, error) {
	if name == "" {
		return "", apperr.Archive(ReasonCorrupt, "The archive contains an entry without a name")
	}
	if len(name) > maxNameBytes {
		return "", apperr.Archive(ReasonCorrupt, "The archive contains an entry name longer than %d bytes", maxNameBytes)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", apperr.Archive(ReasonPathTraversal, "The archive contains an entry name with a NUL byte")
	}
	if !utf8.ValidString(name) {
		return "", apperr.Archive(ReasonCorrupt, "The archive contains an entry name that is not valid UTF-8")
	}
	if strings.ContainsRune(name, '\\') {
		return "", apperr.Archive(ReasonPathTraversal, "The archive entry %q contains a backslash", name)
	}
	if strings.HasPrefix(name, "/") || hasDriveLetter(name) {
		return "", apperr.Archive(ReasonAbsolutePath, "The archive entry %q has an absolute path", name)
	}
	if hasEncodedSeparator(name) {
		return "", apperr.Archive(ReasonPathTraversal, "The archive entry %q contains a percent-encoded path character", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", apperr.Archive(ReasonCorrupt, "The archive entry %q contains a control character", name)
		}
	}
	parts := strings.Split(name, "/")
	kept := parts[:0]
	for _, p := range parts {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", apperr.Archive(ReasonPathTraversal, "The archive entry %q points outside the archive", name)
		}
		if len(p) > maxComponentBytes {
			return "", apperr.Archive(ReasonCorrupt, "The archive entry %q has a path component longer than %d bytes", name, maxComponentBytes)
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "/"), nil
}

func hasDriveLetter(name string) bool {
	if len(name) < 2 || name[1] != ':' {
		return false
	}
	c := name[0] | 0x20
	return c >= 'a' && c <= 'z'
}

func hasEncodedSeparator(name string) bool {
	if strings.IndexByte(name, '%') < 0 {
		return false
	}
	lower := strings.ToLower(name)
	for _, enc := range []string{"%2e", "%2f", "%5c", "%00"} {
		if strings.Contains(lower, enc) {
			return true
		}
	}
	return false
}

// CleanRequestPath normalises a path a client asked for (tree or file views).
// "", "/" and "." mean the snapshot root and return "". Traversal, backslashes,
// NUL bytes and invalid UTF-8 are a bad request; the result never starts or
// ends with a slash.
func CleanRequestPath(p string) (string, error) {
	if len(p) > maxNameBytes || strings.IndexByte(p, 0) >= 0 || !utf8.ValidString(p) || strings.ContainsRune(p, '\\') {
		return "", apperr.BadRequestf("The path is not valid")
	}
	p = strings.Trim(p, "/")
	if p == "" || p == "." {
		return "", nil
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", apperr.BadRequestf("The path must stay inside the repository")
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", nil
	}
	return c, nil
}
