package ingest

// Limits bound what one ingest may consume (VEGA_MAX_SOURCE_BYTES, VEGA_MAX_ARCHIVE_*). A zero or negative field
// means "no limit" so tests can relax one bound at a time; production callers
// get Limits from the configuration (app/server).
type Limits struct {
	// MaxSourceBytes caps the archive file itself (compressed size).
	MaxSourceBytes int64
	// MaxEntries caps the number of entries of any kind in one archive.
	MaxEntries int
	// MaxFileBytes caps the uncompressed size of any one file.
	MaxFileBytes int64
	// MaxTotalBytes caps the uncompressed size of all files together.
	MaxTotalBytes int64
}

// DefaultLimits are the defaults of those variables, for callers without a configuration.
func DefaultLimits() Limits {
	return Limits{
		MaxSourceBytes: 2 << 30,
		MaxEntries:     50000,
		MaxFileBytes:   256 << 20,
		MaxTotalBytes:  5 << 30,
	}
}
