package bolt

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func patchFixture() *store.Finding {
	at := time.Date(2026, 12, 2, 15, 4, 5, 123456000, time.UTC)
	return &store.Finding{ID: "fnd_1", ScanID: "scn_1", RepositoryID: "rep_1", ProjectID: "prj_1", OwnerUserID: "usr_1",
		Fingerprint: "fp", Engine: "codex", Title: `SQL "injection" <in> the handler & co — ünïcode`, Severity: store.SeverityHigh,
		Confidence: "high", Category: "injection", RuleID: "injection", CWE: []string{"CWE-89"}, FilePath: "src/a.go",
		StartLine: 3, EndLine: 9, Description: "line one\nline two \\ \"quoted\" {not json} [nor this]", Evidence: "x := `}`",
		Recommendation: "Use parameters.", Locations: []store.Location{{FilePath: "src/a.go", StartLine: 3, EndLine: 4, Role: "sink"}},
		Status: store.FindingDismissed, DismissedReason: store.DismissWontFix, TriageNote: "old note",
		Suppression:     &store.Suppression{Kind: store.SuppressVegaIgnore, FilePath: "src/a.go", Line: 2, Text: "vega:ignore }"},
		FirstSeenScanID: "scn_0", LastSeenScanID: "scn_1", CreatedAt: at, UpdatedAt: at}
}

// The patched record must be exactly what json.Marshal writes for the
// updated finding, with the omitempty triage members appearing and vanishing.
func TestPatchTriageEqualsMarshal(t *testing.T) {
	later := time.Date(2026, 12, 3, 1, 2, 3, 0, time.FixedZone("x", 3600)).UTC()
	for _, c := range []struct {
		name                 string
		before               func(*store.Finding)
		status, reason, note string
	}{
		{"dismissed to confirmed, note dropped", nil, store.FindingConfirmed, "", ""},
		{"open to dismissed with reason and note", func(f *store.Finding) { f.Status, f.DismissedReason, f.TriageNote = store.FindingOpen, "", "" },
			store.FindingDismissed, store.DismissFalsePositive, `note with "quotes" <b> & ü`},
		{"no suppression, note only", func(f *store.Finding) { f.Suppression, f.CWE, f.Locations = nil, nil, nil }, store.FindingDismissed, store.DismissWontFix, "new"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := patchFixture()
			if c.before != nil {
				c.before(f)
			}
			v, err := json.Marshal(findings.toRecord(f))
			if err != nil {
				t.Fatal(err)
			}
			members, err := splitObject(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			view, err := triageView(members)
			if err != nil {
				t.Fatal(err)
			}
			want := *f
			want.CWE, want.Locations, want.Suppression, want.Description, want.Evidence, want.Recommendation = nil, nil, nil, "", "", ""
			if got, _ := json.Marshal(findings.toRecord(view)); string(got) != string(mustJSON(t, findings.toRecord(&want))) {
				t.Fatalf("view\n got %s\nwant %s", got, mustJSON(t, findings.toRecord(&want)))
			}
			upd := *f
			upd.Status, upd.DismissedReason, upd.TriageNote, upd.UpdatedAt = c.status, c.reason, c.note, later
			got, err := patchTriage(members, len(v), &upd)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustJSON(t, findings.toRecord(&upd)); string(got) != string(want) {
				t.Fatalf("patched\n got %s\nwant %s", got, want)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSplitObjectRefusesWhatItCannotSplit(t *testing.T) {
	for _, v := range []string{``, `[]`, `{"a":1`, `{"a" 1}`, `{"a":"x}`, `{"a":{"b":[1,2}`, `{"a":1} x`, `{"a\"b":1}`, `{"a":}`} {
		if _, err := splitObject([]byte(v), nil); err == nil {
			t.Errorf("%q: split without error", v)
		}
	}
	m, err := splitObject([]byte(` { "a" : [1,{"x":"]}"}] , "b":null,"c":-1.5e3 } `), nil)
	if err != nil || len(m) != 3 || string(m[0].val) != `[1,{"x":"]}"}]` || string(m[1].val) != "null" || string(m[2].val) != "-1.5e3" {
		t.Fatalf("split %q %v", m, err)
	}
}

func TestMetaWithStatus(t *testing.T) {
	f := patchFixture()
	f.Description = strings.Repeat("long ", 100)
	got, err := metaWithStatus(encodeMeta(f), store.FindingConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	f.Status = store.FindingConfirmed
	if string(got) != string(encodeMeta(f)) {
		t.Fatal("meta with status differs from the meta record of the updated finding")
	}
	if _, err := metaWithStatus([]byte{metaVersion, 3, 'a'}, "x"); err == nil {
		t.Fatal("truncated meta accepted")
	}
}

// A record the splitter refuses (here an escaped key, which json.Marshal
// never writes but json.Unmarshal reads) is triaged through a full decode.
func TestTriageFindingsFallsBackToAFullDecode(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	f := patchFixture()
	now := f.CreatedAt
	u := &store.User{ID: f.OwnerUserID, Email: "fallback@example.com", Groups: []string{store.GroupUser}, CreatedAt: now}
	p := &store.Project{ID: f.ProjectID, OwnerUserID: u.ID, Name: "p", CreatedAt: now, UpdatedAt: now}
	r := &store.Repository{ID: f.RepositoryID, ProjectID: p.ID, OwnerUserID: u.ID, Name: "r", SourceType: store.SourceGit,
		IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	for _, err := range []error{s.CreateUser(ctx, u), s.CreateProject(ctx, p), s.CreateRepository(ctx, r), s.CreateFinding(ctx, f)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktFindings)
		v := strings.Replace(string(b.Get([]byte(f.ID))), `"title":`, `"t\u0069tle":`, 1)
		if _, err := splitObject([]byte(v), nil); err == nil {
			t.Fatal("the splitter accepted an escaped key")
		}
		return b.Put([]byte(f.ID), []byte(v))
	})
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	n, missing, err := s.TriageFindings(ctx, store.OwnedBy(u.ID), []string{f.ID}, func(x *store.Finding) *store.FindingHistory {
		if len(x.Locations) != 1 {
			t.Errorf("the full decode did not happen: %+v", x)
		}
		x.Status, x.DismissedReason, x.TriageNote, x.UpdatedAt = store.FindingConfirmed, "", "", later
		return &store.FindingHistory{Actor: u.ID, FromStatus: store.FindingDismissed, ToStatus: store.FindingConfirmed, At: later}
	})
	if err != nil || n != 1 || len(missing) != 0 {
		t.Fatalf("triage: %d %v %v", n, missing, err)
	}
	got, err := s.GetFinding(ctx, store.System(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *f
	want.Status, want.DismissedReason, want.TriageNote, want.UpdatedAt = store.FindingConfirmed, "", "", later
	if string(mustJSON(t, findings.toRecord(got))) != string(mustJSON(t, findings.toRecord(&want))) {
		t.Fatalf("after the fallback\n got %s\nwant %s", mustJSON(t, findings.toRecord(got)), mustJSON(t, findings.toRecord(&want)))
	}
	list, _, err := s.ListFindings(ctx, store.System(), store.FindingFilter{Statuses: []string{store.FindingConfirmed}}, store.Page{})
	if err != nil || len(list) != 1 {
		t.Fatalf("the meta record did not follow: %v %v", list, err)
	}
}

// Any valid JSON object whose keys have no escapes splits into the members
// encoding/json sees, with the same raw values.
func FuzzSplitObject(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,{"c":"]}"}],"d":"\"}","e":null}`))
	f.Add(mustJSON(&testing.T{}, findings.toRecord(patchFixture())))
	f.Fuzz(func(t *testing.T, v []byte) {
		var want map[string]json.RawMessage
		if !json.Valid(v) || json.Unmarshal(v, &want) != nil || want == nil {
			return
		}
		members, err := splitObject(v, nil)
		if err != nil {
			if strings.Contains(string(v), `\`) || !utf8.Valid(v) {
				return // possibly an escaped or invalid key: refused on purpose
			}
			t.Fatalf("refused a valid object %q: %v", v, err)
		}
		got := map[string]string{}
		for _, m := range members {
			got[string(m.key)] = string(m.val)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, encoding/json sees %d", v, len(got), len(want))
		}
		for k, raw := range want {
			if got[k] != string(raw) {
				t.Fatalf("%q: member %q is %q, encoding/json sees %q", v, k, got[k], raw)
			}
		}
	})
}
