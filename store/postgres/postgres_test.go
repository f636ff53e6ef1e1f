package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/store/storetest"
)

// TestContract runs the shared store contract (the same cases as bbolt). The
// cases share one migrated database and each starts from emptied tables:
// creating a database costs ~1 s here and TRUNCATE (new files, one fsync per
// relation) most of that; DELETE on these tiny tables is one commit.
func TestContract(t *testing.T) {
	base := pgtest.OpenStore(t)
	dsn := base.Pool().Config().ConnString()
	storetest.Run(t, func(t *testing.T) store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pgtest.Empty(t, ctx, base.Pool())
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// seedScan creates user-owned project → repository → scan rows.
func seedScan(t testing.TB, s store.Store, status store.ScanStatus) *store.Scan {
	t.Helper()
	ctx := context.Background()
	p := &store.Project{OwnerUserID: "usr_a", Name: "p"}
	if err := s.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	r := &store.Repository{ProjectID: p.ID, OwnerUserID: "usr_a", Name: "r", SourceType: store.SourceGit, IngestStatus: store.IngestReady}
	if err := s.CreateRepository(ctx, r); err != nil {
		t.Fatal(err)
	}
	sc := &store.Scan{RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: "usr_a", Status: status}
	if err := s.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

// Two stores are two pools: the closest a test gets to two processes.
func secondStore(t *testing.T, s *postgres.Store) *postgres.Store {
	t.Helper()
	s2, err := postgres.Open(context.Background(), s.Pool().Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

// heartbeatUntil sets the scan's heartbeat through UpdateScan again and again
// until stop is closed.
func heartbeatUntil(ctx context.Context, s store.Store, scanID string, stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if _, err := s.UpdateScan(ctx, store.System(), scanID, func(x *store.Scan) error {
			now := time.Now()
			x.HeartbeatAt = &now
			return nil
		}); err != nil {
			return err
		}
	}
}

// Appenders in two processes, interleaved with heartbeats through UpdateScan,
// must produce seqs 1..N with no gap and no duplicate, and UpdateScan must not
// reset the event counter.
func TestAppendEventsGapFreeAcrossProcessesWithHeartbeats(t *testing.T) {
	s1 := pgtest.OpenStore(t)
	s2 := secondStore(t, s1)
	sc := seedScan(t, s1, store.ScanRunning)
	ctx := context.Background()

	const writers, batches, perBatch = 6, 15, 7
	stop := make(chan struct{})
	go func() { time.Sleep(50 * time.Millisecond); close(stop) }()
	storetest.Parallel(t, writers+1, func(w int) error {
		if w == writers {
			return heartbeatUntil(ctx, s2, sc.ID, stop) // on the same row
		}
		st := []store.Store{s1, s2}[w%2]
		for b := range batches {
			evs := make([]store.Event, perBatch)
			for i := range evs {
				evs[i] = store.Event{Kind: store.EventScanLog, Payload: json.RawMessage(fmt.Sprintf(`{"w":%d,"b":%d,"i":%d}`, w, b, i))}
			}
			out, err := st.AppendEvents(ctx, sc.ID, evs)
			if err != nil {
				return err
			}
			for i := 1; i < len(out); i++ {
				if out[i].Seq != out[i-1].Seq+1 {
					return fmt.Errorf("batch not consecutive: %d then %d", out[i-1].Seq, out[i].Seq)
				}
			}
		}
		return nil
	})

	total := writers * batches * perBatch
	storetest.CheckDenseSeqs(t, storetest.ReadAllEvents(t, ctx, s1, sc.ID, store.MaxLimit), total)
	// The next append continues the sequence.
	out, err := s1.AppendEvents(ctx, sc.ID, []store.Event{{Kind: store.EventScanLog, Payload: json.RawMessage(`{}`)}})
	if err != nil || out[0].Seq != int64(total+1) {
		t.Fatalf("next append = %+v, %v; want seq %d", out, err, total+1)
	}
}

// A rejected batch (invalid JSON payload) must not consume seqs.
func TestAppendEventsRejectedBatchLeavesNoGap(t *testing.T) {
	s := pgtest.OpenStore(t)
	sc := seedScan(t, s, store.ScanRunning)
	ctx := context.Background()
	_, err := s.AppendEvents(ctx, sc.ID, []store.Event{
		{Kind: store.EventScanLog, Payload: json.RawMessage(`{"ok":true}`)},
		{Kind: store.EventScanLog, Payload: json.RawMessage(`{not json`)},
	})
	if err == nil {
		t.Fatal("invalid JSON payload accepted")
	}
	out, err := s.AppendEvents(ctx, sc.ID, []store.Event{{Kind: store.EventScanLog, Payload: json.RawMessage(`{"ok":1}`)}})
	if err != nil || out[0].Seq != 1 {
		t.Fatalf("append after rejected batch = %+v, %v; want seq 1", out, err)
	}
	evs, err := s.ListEvents(ctx, sc.ID, 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events = %+v, %v; want exactly one", evs, err)
	}
}

// Read-modify-write through UpdateScan from two processes loses no update.
func TestUpdateScanSerialisesAcrossProcesses(t *testing.T) {
	s1 := pgtest.OpenStore(t)
	s2 := secondStore(t, s1)
	sc := seedScan(t, s1, store.ScanRunning)
	ctx := context.Background()
	const n = 40
	storetest.Parallel(t, n, func(i int) error {
		_, err := []store.Store{s1, s2}[i%2].UpdateScan(ctx, store.System(), sc.ID, func(x *store.Scan) error {
			x.Usage.Requests++
			return nil
		})
		return err
	})
	got, err := s1.GetScan(ctx, store.System(), sc.ID)
	if err != nil || got.Usage.Requests != n {
		t.Fatalf("requests = %d, %v; want %d (lost updates)", got.Usage.Requests, err, n)
	}
}

// Workers in two processes claim every queued scan exactly once.
func TestClaimNextScanAcrossProcesses(t *testing.T) {
	s1 := pgtest.OpenStore(t)
	s2 := secondStore(t, s1)
	ctx := context.Background()
	first := seedScan(t, s1, store.ScanQueued)
	const queued = 30
	for range queued - 1 {
		x := &store.Scan{RepositoryID: first.RepositoryID, ProjectID: first.ProjectID, OwnerUserID: "usr_a"}
		if err := s1.CreateScan(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[string]string{}
	storetest.Parallel(t, 8, func(w int) error {
		st := []store.Store{s1, s2}[w%2]
		for {
			x, err := st.ClaimNextScan(ctx, storetest.ClaimAs(fmt.Sprintf("wrk_%d", w), time.Now()))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			prev, dup := claimed[x.ID]
			claimed[x.ID] = x.ClaimedBy
			mu.Unlock()
			if dup {
				return fmt.Errorf("scan %s claimed by %s and wrk_%d", x.ID, prev, w)
			}
			if x.Attempt != 1 || x.Status != store.ScanClaimed {
				return fmt.Errorf("claimed scan has attempt %d status %s", x.Attempt, x.Status)
			}
		}
	})
	if len(claimed) != queued {
		t.Fatalf("claimed %d scans, want %d", len(claimed), queued)
	}
}

// Every call is bounded by the store's timeout even when the caller's
// context has none: a row held by another transaction makes UpdateScan wait,
// and the wait must end with an error, not hang.
func TestOpTimeoutBoundsBlockedCalls(t *testing.T) {
	s := pgtest.OpenStore(t)
	sc := seedScan(t, s, store.ScanRunning)
	ctx := context.Background()
	quick, err := postgres.Open(ctx, s.Pool().Config().ConnString(), postgres.WithOpTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer quick.Close()

	holder, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT 1 FROM scans WHERE id = $1 FOR UPDATE`, sc.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = quick.UpdateScan(ctx, store.System(), sc.ID, func(*store.Scan) error { return nil })
	if err == nil {
		t.Fatal("update of a locked row returned without error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("blocked call took %v; the op timeout did not apply", d)
	}
}

// Callback errors come back unchanged and nothing is written.
func TestUpdateCallbackErrorIsReturnedAsIs(t *testing.T) {
	s := pgtest.OpenStore(t)
	sc := seedScan(t, s, store.ScanQueued)
	ctx := context.Background()
	sentinel := errors.New("illegal transition")
	_, err := s.UpdateScan(ctx, store.System(), sc.ID, func(x *store.Scan) error {
		x.Status = store.ScanCompleted
		return sentinel
	})
	if err != sentinel {
		t.Fatalf("err = %v, want the callback's error itself", err)
	}
	got, _ := s.GetScan(ctx, store.System(), sc.ID)
	if got.Status != store.ScanQueued {
		t.Fatalf("status = %s after an aborted update", got.Status)
	}
}

// A bad DSN must not echo its password into errors (errors end up in logs).
func TestOpenDoesNotLeakPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://vega:s3cr3t-pw@127.0.0.1:1/vega?sslmode=disable&connect_timeout=2",
		"postgres://vega:s3cr3t-pw@127.0.0.1:5432/vega?sslmode=bogus",
	} {
		_, err := postgres.Open(ctx, dsn)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Fatalf("error leaks the password: %v", err)
		}
	}
}

// Times come back in UTC at microsecond precision, and the store trims the
// caller's struct to the same value so what the caller holds equals a re-read.
func TestTimesRoundTripExactly(t *testing.T) {
	s := pgtest.OpenStore(t)
	ctx := context.Background()
	loc := time.FixedZone("X", 5*3600+1800)
	at := time.Date(2026, 11, 29, 10, 11, 12, 123456789, loc)
	p := &store.Project{OwnerUserID: "usr_a", Name: "p", CreatedAt: at, UpdatedAt: at}
	if err := s.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetProject(ctx, store.OwnedBy("usr_a"), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != p.CreatedAt || got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond() != 123456000 {
		t.Fatalf("created_at = %v (caller holds %v)", got.CreatedAt, p.CreatedAt)
	}
}

// The q filter is a case-insensitive substring of one field: wildcards in
// the term match literally and a term never spans two fields.
func TestFindingQuerySemantics(t *testing.T) {
	s := pgtest.OpenStore(t)
	sc := seedScan(t, s, store.ScanRunning)
	ctx := context.Background()
	mk := func(title, desc, path string) string {
		f := &store.Finding{RepositoryID: sc.RepositoryID, ProjectID: sc.ProjectID, OwnerUserID: "usr_a",
			Title: title, Description: desc, FilePath: path, Status: store.FindingOpen, Severity: store.SeverityLow}
		if err := s.CreateFinding(ctx, f); err != nil {
			t.Fatal(err)
		}
		return f.ID
	}
	a := mk("SQL Injection", "uses 100% of input", "src/db_query.go")
	b := mk("XSS", "reflected", "web/Search.tsx")
	mk("Weak hash", "md5 used 100 times", "src/dbxquery.go") // near-misses for wildcards
	for q, want := range map[string][]string{
		"injection":     {a},
		"SEARCH.TSX":    {b},
		"100%":          {a},
		"db_q":          {a},
		"db_query":      {a}, // "_" is literal: src/dbxquery.go must not match
		"0%":            {a}, // "%" is literal: "md5 used 100 times" must not match
		"injectionuses": nil, // would only match across title and description
		"xss\x1f":       nil, // separator in the term takes the per-column path
		"reflected":     {b},
	} {
		got, _, err := s.ListFindings(ctx, store.System(), store.FindingFilter{RepositoryID: sc.RepositoryID, Query: q}, store.Page{})
		if err != nil {
			t.Fatalf("q=%q: %v", q, err)
		}
		var ids []string
		for _, f := range got {
			ids = append(ids, f.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("q=%q matched %v, want %v", q, ids, want)
		}
	}
}
