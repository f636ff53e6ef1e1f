// Package storetest is the contract every store.Store implementation must
// meet. The bbolt and Postgres stores run the very same cases:
//
//	func TestContract(t *testing.T) { storetest.Run(t, openFreshStore) }
//
// open must return an empty, ready store for each call (a new file, a new
// schema or truncated tables) and register its own cleanup with t.Cleanup.
//
// Conventions the suite pins down (both implementations must agree):
//   - Lists are newest first by ID; Page.Cursor is the last ID of the previous
//     page and the next cursor is "" when no further item exists.
//   - ErrNotFound for missing objects, objects outside the Scope and missing
//     parents (a repository under an unknown project, events of an unknown scan).
//   - ErrConflict for taken unique keys (a local user's email case-insensitively, auth subject,
//     key/token hashes, fingerprint per repository, runner job per scan attempt).
//   - Times are compared with time.Equal at microsecond precision; empty and nil
//     slices/maps are equal; JSON payloads are compared by value, not bytes.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

type contractCase struct {
	name string
	fn   func(t *testing.T, f *fixture)
}

// Run runs every contract case against stores returned by open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	run(t, open, contractCases())
}

// RunOnly runs the named contract cases, for a store under a setting the
// whole suite need not repeat (store/postgres: the findings list cases on a
// database whose default collation is not byte-wise). An unknown name fails.
func RunOnly(t *testing.T, open func(t *testing.T) store.Store, names ...string) {
	all := contractCases()
	var picked []contractCase
	for _, n := range names {
		i := slices.IndexFunc(all, func(c contractCase) bool { return c.name == n })
		if i < 0 {
			t.Fatalf("storetest: no contract case %q", n)
		}
		picked = append(picked, all[i])
	}
	run(t, open, picked)
}

func run(t *testing.T, open func(t *testing.T) store.Store, cases []contractCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newFixture(t, open(t)))
		})
	}
}

func contractCases() []contractCase {
	return []contractCase{
		{"Ping", testPing},
		{"Users", testUsers},
		{"UserEmailConflict", testUserConflicts},
		{"UserSubjectRace", testUserSubjectRace},
		{"APIKeys", testAPIKeys},
		{"RefreshSessions", testRefreshSessions},
		{"SessionUser", testSessionUser},
		{"Projects", testProjects},
		{"Pagination", testPagination},
		{"Scoping", testScoping},
		{"Repositories", testRepositories},
		{"Snapshots", testSnapshots},
		{"ThreatProfiles", testThreatProfiles},
		{"ThreatProfileVersions", testThreatProfileVersions},
		{"MissingParents", testMissingParents},
		{"Scans", testScans},
		{"ClaimNextScan", testClaimNextScan},
		{"ClaimNextScanConcurrent", testClaimNextScanConcurrent},
		{"ListHeldScans", testListHeldScans},
		{"UpdateScanEmit", testUpdateScanEmit},
		{"CreateScanWithin", testCreateScanWithin},
		{"Events", testEvents},
		{"EventsConcurrentAppend", testEventsConcurrent},
		{"Findings", testFindings},
		{"FindingFilters", testFindingFilters},
		{"FindingSort", testFindingSort},
		{"FindingSortScopes", testFindingSortScopes},
		{"FindingCountsAndRules", testFindingCountsAndRules},
		{"TriageFindings", testTriageFindings},
		{"ScanFindings", testScanFindings},
		{"FindingHistory", testFindingHistory},
		{"FindingTimelines", testFindingTimelines},
		{"ProjectStats", testProjectStats},
		{"DeleteRepositoryCascade", testDeleteRepositoryCascade},
		{"DeleteProjectCascade", testDeleteProjectCascade},
		{"RunnerJobs", testRunnerJobs},
		{"ScanQueue", testScanQueue},
		{"UsageRecords", testUsageRecords},
		{"Workers", testWorkers},
		{"GitUploads", testGitUploads},
		{"OwnedTotals", testOwnedTotals},
		{"Webhooks", testWebhooks},
		{"ClaimWebhookDeliveries", testClaimWebhookDeliveries},
	}
}

// fixture builds objects with deterministic, increasing timestamps.
type fixture struct {
	t     *testing.T
	s     store.Store
	ctx   context.Context
	clock time.Time
	n     int
}

func newFixture(t *testing.T, s store.Store) *fixture {
	return &fixture{t: t, s: s, ctx: context.Background(),
		clock: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
}

// tick returns a timestamp one second after the previous one.
func (f *fixture) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func (f *fixture) seq() int { f.n++; return f.n }

// ascendingIDs returns n fresh IDs sorted ascending, so tests that depend on
// "oldest" agree whether an implementation orders by ID or by creation time.
func ascendingIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = store.NewID(prefix)
	}
	sort.Strings(ids)
	return ids
}

func (f *fixture) user() *store.User {
	f.t.Helper()
	n := f.seq()
	u := &store.User{
		ID: store.NewID(store.PrefixUser), Email: fmt.Sprintf("user%d@example.com", n),
		DisplayName: fmt.Sprintf("User %d", n), Groups: []string{store.GroupUser},
		PasswordHash: fmt.Sprintf("$argon2id$hash-%d", n), CreatedAt: f.tick(),
	}
	must(f.t, f.s.CreateUser(f.ctx, u), "CreateUser")
	return u
}

func (f *fixture) project(owner string) *store.Project {
	f.t.Helper()
	at := f.tick()
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: owner,
		Name: fmt.Sprintf("project %d", f.seq()), Description: "d", CreatedAt: at, UpdatedAt: at}
	must(f.t, f.s.CreateProject(f.ctx, p), "CreateProject")
	return p
}

func (f *fixture) repo(p *store.Project) *store.Repository {
	f.t.Helper()
	at := f.tick()
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: p.OwnerUserID,
		Name: fmt.Sprintf("repo %d", f.seq()), SourceType: store.SourceGit, GitURL: "https://example.com/r.git",
		GitRef: "main", IngestStatus: store.IngestReady, CreatedAt: at, UpdatedAt: at}
	must(f.t, f.s.CreateRepository(f.ctx, r), "CreateRepository")
	return r
}

func (f *fixture) snapshot(r *store.Repository) *store.Snapshot {
	f.t.Helper()
	sn := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r.ID, OwnerUserID: r.OwnerUserID,
		StorageKey: "snapshots/" + r.ID + "/a.tar.zst", ManifestKey: "snapshots/" + r.ID + "/a.json",
		CommitSHA: "0123456789abcdef0123456789abcdef01234567", FileCount: 12, TotalBytes: 3456, StoredBytes: 1500,
		Languages: map[string]int64{"Go": 3000, "YAML": 456}, Skipped: store.SkippedCounts{Symlinks: 1, Ignored: 2},
		ContentSHA256: "ab12", CreatedAt: f.tick()}
	must(f.t, f.s.CreateSnapshot(f.ctx, sn), "CreateSnapshot")
	return sn
}

func (f *fixture) scan(r *store.Repository, status store.ScanStatus) *store.Scan {
	f.t.Helper()
	return f.scanWithID(store.NewID(store.PrefixScan), r, status)
}

func (f *fixture) scanWithID(id string, r *store.Repository, status store.ScanStatus) *store.Scan {
	f.t.Helper()
	sc := &store.Scan{ID: id, RepositoryID: r.ID, ProjectID: r.ProjectID, OwnerUserID: r.OwnerUserID,
		SnapshotID: "snap_x", RequestedBy: r.OwnerUserID, Status: status, Engines: []string{"codex", "gitleaks"},
		Paths: []string{"src/"}, ThreatProfile: &store.ThreatProfileContent{Summary: "s", Focus: []string{"authz"}},
		Progress: store.ScanProgress{Percent: 0, Message: "queued"}, CreatedAt: f.tick()}
	must(f.t, f.s.CreateScan(f.ctx, sc), "CreateScan")
	return sc
}

func (f *fixture) finding(r *store.Repository, scanID string, mod func(*store.Finding)) *store.Finding {
	f.t.Helper()
	n := f.seq()
	at := f.tick()
	x := &store.Finding{ID: store.NewID(store.PrefixFinding), ScanID: scanID, RepositoryID: r.ID,
		ProjectID: r.ProjectID, OwnerUserID: r.OwnerUserID, Fingerprint: fmt.Sprintf("fp-%d", n),
		Engine: "codex", Title: fmt.Sprintf("Finding %d", n), Severity: store.SeverityHigh, Confidence: "high",
		Category: "injection", CWE: []string{"CWE-89"}, FilePath: fmt.Sprintf("src/file%d.go", n),
		StartLine: 10, EndLine: 12, Description: "desc", Evidence: "ev", Recommendation: "fix it",
		Locations: []store.Location{{FilePath: "src/a.go", StartLine: 1, EndLine: 2, Role: "source"}},
		Status:    store.FindingOpen, FirstSeenScanID: scanID, LastSeenScanID: scanID, CreatedAt: at, UpdatedAt: at}
	if mod != nil {
		mod(x)
	}
	must(f.t, f.s.CreateFinding(f.ctx, x), "CreateFinding")
	return x
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

func wantErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// errAbort is what UpdateX callbacks return to check the update is abandoned.
var errAbort = errors.New("storetest: callback refused")

// assertSame compares two values field by field after canonicalising them
// (times in UTC, nil == empty, JSON by value), so representation details of a
// database do not matter but every stored field does, hidden ones included.
func assertSame(t testing.TB, want, got any, what string) {
	t.Helper()
	cw, cg := canon(reflect.ValueOf(want)), canon(reflect.ValueOf(got))
	if !reflect.DeepEqual(cw, cg) {
		t.Fatalf("%s differs:\nwant %#v\n got %#v", what, cw, cg)
	}
}

var timeType = reflect.TypeOf(time.Time{})

// canonJSON decodes a JSON document so equal values compare equal however
// the database formatted them.
func canonJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "invalid JSON: " + string(b)
	}
	return v
}

func canon(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Type() == timeType {
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return nil
		}
		return tm.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	}
	if v.Type().Name() == "RawMessage" && v.Kind() == reflect.Slice {
		return canonJSON(v.Bytes())
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return canon(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if c := canon(v.Field(i)); c != nil {
					m[v.Type().Field(i).Name] = c
				}
			}
		}
		return m
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = canon(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[fmt.Sprint(k.Interface())] = canon(v.MapIndex(k))
		}
		return m
	case reflect.String:
		if v.String() == "" {
			return nil
		}
		return v.String()
	case reflect.Bool:
		if !v.Bool() {
			return nil
		}
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Int() == 0 {
			return nil
		}
		return v.Int()
	case reflect.Float32, reflect.Float64:
		if v.Float() == 0 {
			return nil
		}
		return v.Float()
	default:
		return v.Interface()
	}
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

// newestFirst sorts IDs the way every list must return them.
func newestFirst(xs []string) []string {
	out := slices.Clone(xs)
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

func sameSet(t testing.TB, want, got []string, what string) {
	t.Helper()
	w, g := slices.Clone(want), slices.Clone(got)
	sort.Strings(w)
	sort.Strings(g)
	if !slices.Equal(w, g) {
		t.Fatalf("%s: got %v, want %v", what, g, w)
	}
}

func sameOrder(t testing.TB, want, got []string, what string) {
	t.Helper()
	if !slices.Equal(want, got) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func sameTime(t testing.TB, want time.Time, got *time.Time, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil, want %v", what, want)
	}
	if !want.Truncate(time.Microsecond).Equal(got.Truncate(time.Microsecond)) {
		t.Fatalf("%s: got %v, want %v", what, *got, want)
	}
}
