package bolt

import (
	"fmt"
	"reflect"
	"time"

	"github.com/vegasec/vega/store"
)

// Domain types hide server-only fields from JSON (`json:"-"`) because they
// double as API shapes. The records below embed each type and add those fields
// back under the same names with their own tags, so what is stored is complete
// while the API encoding of the domain type stays unchanged. recordCodec
// copies between the two and, at start, refuses a record that misses one.

type userRecord struct {
	store.User
	PasswordHash      string     `json:"password_hash,omitempty"`
	SessionGeneration int64      `json:"session_generation,omitempty"`
	SessionsEndedAt   *time.Time `json:"sessions_ended_at,omitempty"`
}

type apiKeyRecord struct {
	store.APIKey
	Hash string `json:"hash"`
}

type refreshRecord struct {
	store.RefreshSession
	TokenHash string `json:"token_hash"`
}

// projectRecord is a stored project with the fields the API does not show.
type projectRecord struct {
	store.Project
	IgnoreSuppressions bool `json:"ignore_suppressions,omitempty"`
}

type repoRecord struct {
	store.Repository
	PendingUploadKey string `json:"pending_upload_key,omitempty"`
}

type snapshotRecord struct {
	store.Snapshot
	OwnerUserID string `json:"owner_user_id"`
}

type profileRecord struct {
	store.ThreatProfile
	OwnerUserID string `json:"owner_user_id"`
}

type versionRecord struct {
	store.ThreatProfileVersion
	OwnerUserID string `json:"owner_user_id"`
}

type scanRecord struct {
	store.Scan
	OwnerUserID string `json:"owner_user_id"`
}

type findingRecord struct {
	store.Finding
	OwnerUserID string `json:"owner_user_id"`
}

type gitUploadRecord struct {
	store.GitUpload
	TokenHash string `json:"token_hash"`
}

// webhookRecord is a stored webhook with its sealed secret, which the API
// type never serialises.
type webhookRecord struct {
	store.Webhook
	SecretSealed []byte `json:"secret_sealed"`
}

// deliveryRecord is a stored delivery with its lease token.
type deliveryRecord struct {
	store.WebhookDelivery
	LeaseToken string `json:"lease_token,omitempty"`
}

// The tables, one per primary bucket: the store type it holds, its key, the
// owner a store.Scope checks (nil: System only) and what an update callback
// may not change. The bucket files add their indexes and rules.
var (
	users = newTable[userRecord](bktUsers, "user", func(u *store.User) string { return u.ID }, nil,
		func(old, u *store.User) { u.ID = old.ID })
	apiKeys         = newTable[apiKeyRecord](bktAPIKeys, "api key", func(k *store.APIKey) string { return k.ID }, nil, nil)
	refreshSessions = newTable[refreshRecord](bktRefresh, "refresh session", func(rs *store.RefreshSession) string { return rs.ID }, nil, nil)
	gitUploads      = newTable[gitUploadRecord](bktGitUploads, "git upload", func(g *store.GitUpload) string { return g.ID },
		func(g *store.GitUpload) string { return g.UserID },
		// The token hash is indexed and the owner scopes reads; keep both fixed.
		func(old, g *store.GitUpload) { g.ID, g.TokenHash, g.UserID = old.ID, old.TokenHash, old.UserID })

	projects = newTable[projectRecord](bktProjects, "project", func(p *store.Project) string { return p.ID },
		func(p *store.Project) string { return p.OwnerUserID },
		func(old, p *store.Project) { p.ID, p.OwnerUserID = old.ID, old.OwnerUserID })
	repos = newTable[repoRecord](bktRepos, "repository", func(r *store.Repository) string { return r.ID },
		func(r *store.Repository) string { return r.OwnerUserID },
		func(old, r *store.Repository) {
			r.ID, r.OwnerUserID, r.ProjectID = old.ID, old.OwnerUserID, old.ProjectID
		})
	snapshots = newTable[snapshotRecord](bktSnapshots, "snapshot", func(sn *store.Snapshot) string { return sn.ID },
		func(sn *store.Snapshot) string { return sn.OwnerUserID }, nil)
	profiles = newTable[profileRecord](bktProfiles, "threat profile", func(tp *store.ThreatProfile) string { return tp.RepositoryID },
		func(tp *store.ThreatProfile) string { return tp.OwnerUserID }, nil)
	profileVersions = newRecordCodec[versionRecord, store.ThreatProfileVersion]()
	scans           = newTable[scanRecord](bktScans, "scan", func(sc *store.Scan) string { return sc.ID },
		func(sc *store.Scan) string { return sc.OwnerUserID },
		func(old, sc *store.Scan) { sc.ID, sc.OwnerUserID = old.ID, old.OwnerUserID })
	findings = newTable[findingRecord](bktFindings, "finding", func(f *store.Finding) string { return f.ID },
		func(f *store.Finding) string { return f.OwnerUserID },
		func(old, f *store.Finding) {
			f.ID, f.OwnerUserID, f.RepositoryID, f.ProjectID = old.ID, old.OwnerUserID, old.RepositoryID, old.ProjectID
		})
	runnerJobs = newTable[store.RunnerJob](bktJobs, "runner job", func(j *store.RunnerJob) string { return j.ID }, nil,
		// The (scan, attempt) identity is indexed; keep it fixed.
		func(old, j *store.RunnerJob) { j.ID, j.ScanID, j.Attempt = old.ID, old.ScanID, old.Attempt })
	usageRecords = newTable[store.UsageRecord](bktUsage, "usage record", func(r *store.UsageRecord) string { return r.ID }, nil, nil)
	workers      = newTable[store.Worker](bktWorkers, "worker", func(w *store.Worker) string { return w.ID }, nil, nil)

	webhooks = newTable[webhookRecord](bktWebhooks, "webhook", func(w *store.Webhook) string { return w.ID },
		func(w *store.Webhook) string { return w.OwnerUserID }, nil)
	deliveries = newTable[deliveryRecord](bktDeliveries, "webhook delivery", func(d *store.WebhookDelivery) string { return d.ID },
		func(d *store.WebhookDelivery) string { return d.OwnerUserID },
		// Identity and ownership are fixed; the due time is kept in UTC.
		func(old, d *store.WebhookDelivery) {
			d.ID, d.WebhookID, d.ProjectID, d.OwnerUserID, d.CreatedAt = old.ID, old.WebhookID, old.ProjectID, old.OwnerUserID, old.CreatedAt
			d.NextAttemptAt = d.NextAttemptAt.UTC()
		})
)

// recordCodec converts between a store type T and its record R. One codec
// serves every kind instead of a hand-written pair of copies each, and it
// checks once, when the package starts, that R stores every hidden field of
// T: a field added to T later cannot be silently dropped on write.
type recordCodec[R, T any] struct {
	toRec, fromRec []fieldMove // nil when R is T
}

// fieldMove copies field src of one struct to field dst of another; whole
// (-1) stands for the struct itself.
type fieldMove struct{ dst, src int }

const whole = -1

func field(v reflect.Value, i int) reflect.Value {
	if i == whole {
		return v
	}
	return v.Field(i)
}

// newRecordCodec checks R's layout against T and panics when R is not T
// embedded first, followed by exactly T's `json:"-"` fields, same names and
// types. When R is T itself the codec passes values through.
func newRecordCodec[R, T any]() recordCodec[R, T] {
	rt, tt := reflect.TypeFor[R](), reflect.TypeFor[T]()
	if rt == tt {
		return recordCodec[R, T]{}
	}
	if rt.NumField() == 0 || !rt.Field(0).Anonymous || rt.Field(0).Type != tt {
		panic(fmt.Sprintf("bolt: record %v must embed %v as its first field", rt, tt))
	}
	c := recordCodec[R, T]{toRec: []fieldMove{{dst: 0, src: whole}}, fromRec: []fieldMove{{dst: whole, src: 0}}}
	stored := map[int]bool{}
	for i := 1; i < rt.NumField(); i++ {
		rf := rt.Field(i)
		tf, ok := tt.FieldByName(rf.Name)
		if !ok || len(tf.Index) != 1 || tf.Type != rf.Type || tf.Tag.Get("json") != "-" {
			panic(fmt.Sprintf("bolt: record %v field %s is not a hidden field of %v", rt, rf.Name, tt))
		}
		c.toRec = append(c.toRec, fieldMove{dst: i, src: tf.Index[0]})
		c.fromRec = append(c.fromRec, fieldMove{dst: tf.Index[0], src: i})
		stored[tf.Index[0]] = true
	}
	for i := range tt.NumField() {
		if tt.Field(i).Tag.Get("json") == "-" && !stored[i] {
			panic(fmt.Sprintf("bolt: record %v does not store %v.%s", rt, tt, tt.Field(i).Name))
		}
	}
	return c
}

func (c recordCodec[R, T]) toRecord(t *T) *R { return moveFields[R](t, c.toRec) }

func (c recordCodec[R, T]) fromRecord(r *R) *T { return moveFields[T](r, c.fromRec) }

// moveFields builds a D from src by moves; no moves means D is S.
func moveFields[D, S any](src *S, moves []fieldMove) *D {
	if moves == nil {
		return any(src).(*D)
	}
	d := new(D)
	dv, sv := reflect.ValueOf(d).Elem(), reflect.ValueOf(src).Elem()
	for _, m := range moves {
		field(dv, m.dst).Set(field(sv, m.src))
	}
	return d
}
