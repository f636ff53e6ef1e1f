package ingest

import (
	"strings"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// entryKind is what an archive entry would become on disk.
type entryKind uint8

const (
	kindFile entryKind = iota
	kindDir
	kindLink    // symbolic or hard link: never materialised
	kindSpecial // device, FIFO, socket or unknown type: never materialised
	kindIgnored // entries dropped on purpose (macOS resource forks)
	kindMeta    // archive metadata, not a path (pax global header): no name, not counted
)

// rawEntry is one archive entry as the archive describes it.
type rawEntry struct {
	name string
	kind entryKind
	size int64 // declared uncompressed size; only an early hint, re-counted while writing
}

// plan is the validated list of entries, decided before anything is written.
type plan struct {
	// names[i] is the cleaned, prefix-stripped path of entry i; "" means the
	// entry is not written (root directory, link, special or ignored entry).
	names          []string
	kinds          []entryKind
	skipped        store.SkippedCounts
	strippedPrefix string
}

// macOSJunkDir holds AppleDouble resource forks that Finder adds to zips; it is
// never source, and dropping it lets a wrapping folder be stripped as expected.
const macOSJunkDir = "__MACOSX"

// makePlan validates every entry name, rejects duplicates and conflicting
// paths, checks the entry count and the declared sizes, and decides whether a
// single wrapping folder is stripped. It writes nothing.
//
// Duplicates are exact matches after normalisation ("a/./b" equals "a/b"), and
// a path that is both a non-directory and the parent of another entry ("a" as
// a file or link and "a/b"). Case variants ("README" and "readme") and Unicode
// normalisation variants are distinct paths on Linux and in Git, so they are
// kept as they are.
func makePlan(entries []rawEntry, lim Limits, stripWrapper bool) (*plan, error) {
	if lim.MaxEntries > 0 && len(entries) > lim.MaxEntries {
		return nil, tooManyEntries(lim)
	}
	p := &plan{names: make([]string, len(entries)), kinds: make([]entryKind, len(entries))}
	// kindOf records every explicit path; impliedDirs every parent of one.
	kindOf := make(map[string]entryKind, len(entries))
	impliedDirs := make(map[string]struct{})
	var declaredTotal int64
	for i, e := range entries {
		if e.kind == kindMeta {
			p.kinds[i] = kindMeta
			continue
		}
		name, err := cleanEntryName(e.name)
		if err != nil {
			return nil, err
		}
		kind := e.kind
		if name == macOSJunkDir || strings.HasPrefix(name, macOSJunkDir+"/") {
			kind = kindIgnored
		}
		p.kinds[i] = kind
		switch kind {
		case kindIgnored:
			p.skipped.Ignored++
			continue
		case kindLink:
			p.skipped.Symlinks++
		case kindSpecial:
			p.skipped.Special++
		case kindFile:
			if lim.MaxFileBytes > 0 && e.size > lim.MaxFileBytes {
				return nil, fileTooLarge(name, lim)
			}
			declaredTotal += e.size
			if lim.MaxTotalBytes > 0 && declaredTotal > lim.MaxTotalBytes {
				return nil, totalTooLarge(lim)
			}
		}
		if name == "" {
			if kind == kindDir {
				continue // "./" in tars made with `tar -C dir .`
			}
			return nil, apperr.Archive(ReasonCorrupt, "The archive contains a file entry without a name")
		}
		if prev, seen := kindOf[name]; seen {
			if !(prev == kindDir && kind == kindDir) {
				return nil, duplicate(name)
			}
			continue
		}
		if _, isParent := impliedDirs[name]; isParent && kind != kindDir {
			return nil, duplicate(name)
		}
		kindOf[name] = kind
		for dir := parentOf(name); dir != ""; dir = parentOf(dir) {
			if k, seen := kindOf[dir]; seen && k != kindDir {
				return nil, duplicate(dir)
			}
			if _, done := impliedDirs[dir]; done {
				break // every ancestor of dir was checked when dir was first implied
			}
			impliedDirs[dir] = struct{}{}
		}
		if kind == kindFile || kind == kindDir {
			p.names[i] = name
		}
	}
	if stripWrapper {
		p.stripWrapper(kindOf)
	}
	return p, nil
}

// stripWrapper removes one top-level folder when it wraps every entry, as
// GitHub's "Download ZIP" and `tar czf x.tgz project/` produce.
func (p *plan) stripWrapper(kindOf map[string]entryKind) {
	top := ""
	nested := false
	for name, kind := range kindOf {
		first, rest, hasRest := strings.Cut(name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return
		}
		if hasRest && rest != "" {
			nested = true
		} else if kind != kindDir {
			return // the single top-level name is itself a file or link
		}
	}
	if top == "" || !nested {
		return
	}
	p.strippedPrefix = top
	for i, n := range p.names {
		if n == top {
			p.names[i] = "" // the wrapper itself becomes the destination directory
		} else if n != "" {
			p.names[i] = n[len(top)+1:]
		}
	}
}

func parentOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

func tooManyEntries(lim Limits) error {
	return apperr.Archive(ReasonTooManyEntries, "The archive has more than %d entries", lim.MaxEntries)
}

func fileTooLarge(name string, lim Limits) error {
	return apperr.Archive(ReasonFileTooLarge, "The archive entry %q is larger than %d bytes", name, lim.MaxFileBytes)
}

func totalTooLarge(lim Limits) error {
	return apperr.Archive(ReasonUncompressedTooLarge, "The archive expands to more than %d bytes", lim.MaxTotalBytes)
}

func duplicate(name string) error {
	return apperr.Archive(ReasonDuplicateEntry, "The archive contains %q more than once", name)
}

func corrupt(err error) error {
	return apperr.Archive(ReasonCorrupt, "The archive is damaged or truncated").Wrap(err)
}
