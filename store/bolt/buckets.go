package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// Bucket names. Primary buckets map ID -> JSON record; idx* buckets map a
// lookup key -> ID (or a composite key -> nothing when only presence matters).
var (
	bktUsers          = []byte("users")
	idxUserEmail      = []byte("idx_user_email")   // lower(email) -> ID of the local user (no subject)
	idxUserSubject    = []byte("idx_user_subject") // auth subject -> user ID
	bktAPIKeys        = []byte("api_keys")
	idxAPIKeyHash     = []byte("idx_api_key_hash") // hash -> key ID
	bktRefresh        = []byte("refresh_sessions")
	idxRefreshHash    = []byte("idx_refresh_hash") // token hash -> session ID
	idxRefreshLive    = []byte("idx_refresh_live") // family -> ID of its one unrevoked session
	bktProjects       = []byte("projects")
	bktRepos          = []byte("repositories")
	bktSnapshots      = []byte("snapshots")
	bktProfiles       = []byte("threat_profiles")         // repository ID -> profile
	bktProfileVers    = []byte("threat_profile_versions") // repository ID \x00 big-endian seq -> version
	bktScans          = []byte("scans")
	idxScanStatus     = []byte("idx_scan_status") // status \x00 scan ID -> nil
	bktEvents         = []byte("events")          // scan ID -> sub-bucket: big-endian seq -> event
	bktFindings       = []byte("findings")
	idxFindingFP      = []byte("idx_finding_fingerprint") // repo ID \x00 fingerprint -> finding ID
	bktScanFindings   = []byte("scan_findings")           // scan ID -> sub-bucket: key -> finding ID
	bktFindingHistory = []byte("finding_history")         // finding ID \x00 history ID -> entry
	idxFindingMeta    = []byte("idx_finding_meta")        // repo ID \x00 finding ID -> findingMeta (findingmeta.go)
	bktJobs           = []byte("runner_jobs")
	idxJobScanAttempt = []byte("idx_job_scan_attempt") // scan ID \x00 big-endian attempt -> job ID
	bktUsage          = []byte("usage_records")
	bktWorkers        = []byte("workers")
	bktGitUploads     = []byte("git_uploads")
	idxGitUploadToken = []byte("idx_git_upload_token") // token hash -> upload ID
	idxOwned          = []byte("idx_owned")            // owner \x00 kind \x00 ID -> stored bytes (snapshots) or nothing
	bktScanQueueSent  = []byte("scan_queue_sent")      // scan ID -> when its queue message was last sent (scanqueue.go)
	bktWebhooks       = []byte("webhooks")
	idxWebhookProject = []byte("idx_webhook_project") // project ID \x00 webhook ID -> nil
	bktDeliveries     = []byte("webhook_deliveries")
	idxDeliveryHook   = []byte("idx_delivery_webhook") // webhook ID \x00 delivery ID -> nil
	idxDeliveryDue    = []byte("idx_delivery_due")     // big-endian next attempt (unix ns) + delivery ID -> nil, pending only
)

var allBuckets = [][]byte{
	bktUsers, idxUserEmail, idxUserSubject,
	bktAPIKeys, idxAPIKeyHash,
	bktRefresh, idxRefreshHash, idxRefreshLive,
	bktProjects, bktRepos, bktSnapshots, bktProfiles, bktProfileVers,
	bktScans, idxScanStatus, bktEvents,
	bktFindings, idxFindingFP, bktScanFindings, bktFindingHistory, idxFindingMeta,
	bktJobs, idxJobScanAttempt, bktUsage, bktWorkers,
	bktGitUploads, idxGitUploadToken, idxOwned,
	bktScanQueueSent,
	bktWebhooks, idxWebhookProject, bktDeliveries, idxDeliveryHook, idxDeliveryDue,
}

// backfills fill an index bucket from data written before the index existed.
// Buckets are created in allBuckets order, so a primary bucket listed before
// its index already exists when the index's fill runs.
var backfills = map[string]func(tx *bolt.Tx) error{
	string(idxRefreshLive): fillRefreshLive,
	string(idxOwned):       buildOwnedIndex,
	string(idxFindingMeta): buildFindingMeta,
	string(bktProfileVers): keepReadyProfiles,
}

// compositeKey joins parts with a NUL byte. Parts are IDs or fixed words, which
// never contain NUL, so the encoding is unambiguous and prefix-seekable.
func compositeKey(parts ...string) []byte {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.Bytes()
}

func uint64Key(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

// getJSON decodes the value under key into v, or returns store.ErrNotFound.
func getJSON(b *bolt.Bucket, key []byte, v any) error {
	if len(key) == 0 {
		return store.ErrNotFound
	}
	data := b.Get(key)
	if data == nil {
		return store.ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("bolt: decode %q: %w", key, err)
	}
	return nil
}

// eachJSON decodes every value of b as an R and calls fn with it; what names
// the record kind in a decode error. fn must not change b (bbolt forbids it
// during ForEach).
func eachJSON[R any](b *bolt.Bucket, what string, fn func(r *R) error) error {
	return b.ForEach(func(k, v []byte) error {
		var r R
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("bolt: decode %s %q: %w", what, k, err)
		}
		return fn(&r)
	})
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("bolt: encode: %w", err)
	}
	return b.Put(key, data)
}

// idLookup follows an index bucket to the ID it stores.
func idLookup(tx *bolt.Tx, idx []byte, key []byte) (string, error) {
	if len(key) == 0 {
		return "", store.ErrNotFound
	}
	id := tx.Bucket(idx).Get(key)
	if id == nil {
		return "", store.ErrNotFound
	}
	return string(id), nil
}

// getRecord reads the record stored under id in bucket and converts it to
// its store type; ErrNotFound when there is none.
func getRecord[R, T any](tx *bolt.Tx, bucket []byte, id string, conv func(*R) *T) (*T, error) {
	var r R
	if err := getJSON(tx.Bucket(bucket), []byte(id), &r); err != nil {
		return nil, err
	}
	return conv(&r), nil
}

// viewByIndex follows index idx from key to an ID and reads that object with
// get, in one read transaction.
func viewByIndex[T any](ctx context.Context, s *Store, idx, key []byte, get func(*bolt.Tx, string) (*T, error)) (*T, error) {
	var out *T
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id, err := idLookup(tx, idx, key)
		if err != nil {
			return err
		}
		out, err = get(tx, id)
		return err
	})
	return out, err
}

// sortOldestFirst orders xs by time, then by ID, as the Postgres store's
// ORDER BY at, id does.
func sortOldestFirst[T any](xs []T, key func(*T) (time.Time, string)) {
	sort.SliceStable(xs, func(i, j int) bool {
		ti, idi := key(&xs[i])
		tj, idj := key(&xs[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return idi < idj
	})
}

// listDesc walks bucket b newest first (IDs are time-ordered) starting below
// p.Cursor and returns up to p.Limit items that decode accepts. The next cursor
// is the last returned ID only when at least one more item matches, so the
// final page says "" instead of sending the client on an empty round trip.
func listDesc[T any](b *bolt.Bucket, p store.Page, decode func(k, v []byte) (*T, bool, error)) ([]T, string, error) {
	p = p.Normalize()
	c := b.Cursor()
	var k, v []byte
	if p.Cursor == "" {
		k, v = c.Last()
	} else {
		// Seek lands on the first key >= cursor; the item before it is the
		// first one strictly older than the cursor.
		if k, _ = c.Seek([]byte(p.Cursor)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	out := make([]T, 0, min(p.Limit, 64))
	var lastKey []byte
	for ; k != nil; k, v = c.Prev() {
		if v == nil { // nested bucket, not a record
			continue
		}
		item, ok, err := decode(k, v)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			continue
		}
		if len(out) == p.Limit {
			return out, string(lastKey), nil
		}
		out = append(out, *item)
		lastKey = append(lastKey[:0], k...)
	}
	return out, "", nil
}

// decodeAs is a listDesc decoder that unmarshals into R, converts it to T and
// keeps it when keep says so.
func decodeAs[R any, T any](conv func(*R) *T, keep func(*T) bool) func(k, v []byte) (*T, bool, error) {
	return func(k, v []byte) (*T, bool, error) {
		var r R
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, false, fmt.Errorf("bolt: decode %s: %w", k, err)
		}
		t := conv(&r)
		return t, keep(t), nil
	}
}

// deletePrefix removes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func deleteSubBucket(b *bolt.Bucket, name []byte) error {
	if b.Bucket(name) == nil {
		return nil
	}
	return b.DeleteBucket(name)
}
