/*
Package ingest turns untrusted source archives and checked-out trees into
immutable snapshots, and reads those snapshots back one entry at a time.

# Flow

An upload streams to a temporary file through CopyLimited (cut at
VEGA_MAX_SOURCE_BYTES), ExtractArchive unpacks it into a private directory,
BuildSnapshot zips that directory into blob storage with a manifest, and the
directory is deleted. A git checkout goes straight to BuildSnapshot. Scans call
Unpack; the dashboard calls ReadTree and ReadFile, which read the snapshot's
central directory and a single entry without unpacking anything.

# Archive policy

Format is decided by magic bytes only: "PK\x03\x04"/"PK\x05\x06" zip, gzip or
zstd holding a tar, or a bare tar with a ustar header. Anything else, or a
compressed stream that is not a tar, is unsupported_format. Encrypted zip
entries and compression methods other than store/deflate are
unsupported_format too.

Every name is checked before the first byte is written (tar archives are read
twice for that: once to validate every header, once to write). Names are
rejected, never sanitised, because a sanitised name could collide with
another entry:

  - leading "/", "//" or a drive letter ("C:")                → absolute_path
  - a ".." component, any backslash, a NUL byte, or a percent-encoded
    dot/slash/backslash/NUL ("%2e", "%2f", "%5c", "%00")       → path_traversal
  - invalid UTF-8, control characters, names over 4096 bytes or a
    component over 255 bytes                                   → corrupt

"." and empty components are normalised away ("./a//b" is "a/b"). Duplicates
are compared after that normalisation: the same path twice, or a path that is
both a non-directory (file, link, device) and the parent of another entry, is
duplicate_entry — so "link -> /etc" followed by "link/passwd" is refused.
Case variants ("README" and "readme") and Unicode normalisation variants are
distinct on Linux and in Git and are kept.

The entry count counts every entry, of any type. Sizes are checked twice: the
declared sizes give an early answer, then real bytes are counted while
inflating, so a lying header cannot write past the per-file or total cap (a
zip entry that inflates past its declared size is corrupt). The decompressed
tar stream is itself capped so padding bombs end too.

Symlinks and hard links count as Skipped.Symlinks, devices/FIFOs/sockets as
Skipped.Special, "__MACOSX/" resource forks as Skipped.Ignored; none is
materialised. A single top-level folder wrapping every entry is stripped
(Unpack never strips: a snapshot's paths are already final).

Files are created through an os.Root on the destination with
O_CREAT|O_EXCL|O_NOFOLLOW, never fsynced. A destination created by
ExtractArchive or Unpack is 0700 (private); inside it files are 0644 and
directories 0755, so a sandbox under another uid can read a tree it is given. Any
failure removes the destination (or empties it when it existed before).

# Snapshots

The snapshot zip holds regular files only, in byte order of path, with a
fixed timestamp so the same tree gives the same bytes. ".git" directories are
excluded; a root ".vegaignore" (gitignore syntax, first 256 KiB) is honoured,
and an ignored directory counts once in Skipped.Ignored. Files whose names
would be refused by the archive policy count as Skipped.Special. Small files
are read, hashed and deflated (fast level) in parallel and appended raw; known
compressed formats, and files deflate does not shrink, are stored. The
manifest lists path, size, sha256 and language per file; ContentSHA256 hashes
path + NUL + sha256 + "\n" over the sorted files.
*/
package ingest
