package bolt

import (
	"time"

	"github.com/vegasec/vega/store"
)

// Domain types hide server-only fields from JSON (`json:"-"`) because they
// double as API shapes. The records below embed each type and add those fields
// back under their own names, so what is stored is complete while the API
// encoding of the domain type stays unchanged.

type userRecord struct {
	store.User
	PasswordHash      string     `json:"password_hash,omitempty"`
	SessionGeneration int64      `json:"session_generation,omitempty"`
	SessionsEndedAt   *time.Time `json:"sessions_ended_at,omitempty"`
}

func userToRecord(u *store.User) *userRecord {
	return &userRecord{User: *u, PasswordHash: u.PasswordHash, SessionGeneration: u.SessionGeneration, SessionsEndedAt: u.SessionsEndedAt}
}

func (r *userRecord) user() *store.User {
	u := r.User
	u.PasswordHash = r.PasswordHash
	u.SessionGeneration = r.SessionGeneration
	u.SessionsEndedAt = r.SessionsEndedAt
	return &u
}

type apiKeyRecord struct {
	store.APIKey
	Hash string `json:"hash"`
}

func apiKeyToRecord(k *store.APIKey) *apiKeyRecord {
	return &apiKeyRecord{APIKey: *k, Hash: k.Hash}
}

func (r *apiKeyRecord) apiKey() *store.APIKey {
	k := r.APIKey
	k.Hash = r.Hash
	return &k
}

type refreshRecord struct {
	store.RefreshSession
	TokenHash string `json:"token_hash"`
}

func refreshToRecord(s *store.RefreshSession) *refreshRecord {
	return &refreshRecord{RefreshSession: *s, TokenHash: s.TokenHash}
}

func (r *refreshRecord) session() *store.RefreshSession {
	s := r.RefreshSession
	s.TokenHash = r.TokenHash
	return &s
}

type repoRecord struct {
	store.Repository
	PendingUploadKey string `json:"pending_upload_key,omitempty"`
}

func repoToRecord(r *store.Repository) *repoRecord {
	return &repoRecord{Repository: *r, PendingUploadKey: r.PendingUploadKey}
}

func (r *repoRecord) repo() *store.Repository {
	x := r.Repository
	x.PendingUploadKey = r.PendingUploadKey
	return &x
}

type snapshotRecord struct {
	store.Snapshot
	OwnerUserID string `json:"owner_user_id"`
}

func snapshotToRecord(s *store.Snapshot) *snapshotRecord {
	return &snapshotRecord{Snapshot: *s, OwnerUserID: s.OwnerUserID}
}

func (r *snapshotRecord) snapshot() *store.Snapshot {
	s := r.Snapshot
	s.OwnerUserID = r.OwnerUserID
	return &s
}

type profileRecord struct {
	store.ThreatProfile
	OwnerUserID string `json:"owner_user_id"`
}

func profileToRecord(p *store.ThreatProfile) *profileRecord {
	return &profileRecord{ThreatProfile: *p, OwnerUserID: p.OwnerUserID}
}

func (r *profileRecord) profile() *store.ThreatProfile {
	p := r.ThreatProfile
	p.OwnerUserID = r.OwnerUserID
	return &p
}

type scanRecord struct {
	store.Scan
	OwnerUserID string `json:"owner_user_id"`
}

func scanToRecord(s *store.Scan) *scanRecord {
	return &scanRecord{Scan: *s, OwnerUserID: s.OwnerUserID}
}

func (r *scanRecord) scan() *store.Scan {
	s := r.Scan
	s.OwnerUserID = r.OwnerUserID
	return &s
}

type findingRecord struct {
	store.Finding
	OwnerUserID string `json:"owner_user_id"`
}

func findingToRecord(f *store.Finding) *findingRecord {
	return &findingRecord{Finding: *f, OwnerUserID: f.OwnerUserID}
}

func (r *findingRecord) finding() *store.Finding {
	f := r.Finding
	f.OwnerUserID = r.OwnerUserID
	return &f
}

type gitUploadRecord struct {
	store.GitUpload
	TokenHash string `json:"token_hash"`
}

func gitUploadToRecord(g *store.GitUpload) *gitUploadRecord {
	return &gitUploadRecord{GitUpload: *g, TokenHash: g.TokenHash}
}

func (r *gitUploadRecord) gitUpload() *store.GitUpload {
	g := r.GitUpload
	g.TokenHash = r.TokenHash
	return &g
}
