package store

import (
	"crypto/rand"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID prefixes: an ID is prefix + ULID, time-ordered (docs/architecture.md,
// "API conventions").
const (
	PrefixUser      = "usr_"
	PrefixAPIKey    = "key_"
	PrefixRefresh   = "rfs_"
	PrefixProject   = "prj_"
	PrefixRepo      = "repo_"
	PrefixSnapshot  = "snap_"
	PrefixProfile   = "tp_"
	PrefixProfileV  = "tpv_"
	PrefixScan      = "scan_"
	PrefixFinding   = "fnd_"
	PrefixHistory   = "fh_"
	PrefixJob       = "job_"
	PrefixWorker    = "wrk_"
	PrefixGitUpload = "gup_"
	PrefixUsage     = "use_"
	PrefixWebhook   = "whk_"
	PrefixDelivery  = "whd_"
)

// NewID returns prefix + a ULID: time-ordered, so lists sort by creation and a
// cursor is just the last ID; 80 random bits, so IDs are not guessable.
func NewID(prefix string) string {
	return prefix + ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader).String()
}

// HasPrefix reports whether id looks like an ID of the given kind.
func HasPrefix(id, prefix string) bool {
	return strings.HasPrefix(id, prefix) && len(id) == len(prefix)+ulid.EncodedSize
}

// IDTime is the creation time encoded in an ID, if it is one of ours.
func IDTime(id string) (time.Time, bool) {
	i := strings.IndexByte(id, '_')
	if i < 0 {
		return time.Time{}, false
	}
	u, err := ulid.ParseStrict(id[i+1:])
	if err != nil {
		return time.Time{}, false
	}
	return ulid.Time(u.Time()), true
}

// Stamp fills the defaults every store applies on create: a new ID with the
// given prefix when *id is empty, and now when *at is zero. Caller-set values
// are kept (imports and tests pin them).
func Stamp(id *string, at *time.Time, prefix string, now time.Time) {
	if *id == "" {
		*id = NewID(prefix)
	}
	if at.IsZero() {
		*at = now
	}
}

// StampUpdated is Stamp for kinds that also keep an update time: a zero
// *updated starts equal to the creation time, the rule both stores share.
func StampUpdated(id *string, created, updated *time.Time, prefix string, now time.Time) {
	Stamp(id, created, prefix, now)
	if updated.IsZero() {
		*updated = *created
	}
}
