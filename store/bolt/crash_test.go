package bolt

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// crashChildEnv switches TestSurvivesKill9 into the child that gets killed.
const crashChildEnv = "VEGA_BOLT_CRASH_CHILD"

// TestSurvivesKill9 kills a process with SIGKILL while it appends events and
// checks that every acknowledged append survives, seqs stay gap-free and the
// file reopens writable: the store keeps no write-back cache that could lose data.
func TestSurvivesKill9(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vega.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	scanID := seedScan(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestSurvivesKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", "VEGA_BOLT_CRASH_PATH="+path, "VEGA_BOLT_CRASH_SCAN="+scanID)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked int64
	lines := bufio.NewScanner(out)
	deadline := time.Now().Add(20 * time.Second)
	for lines.Scan() && acked < 300 && time.Now().Before(deadline) {
		if seq, ok := strings.CutPrefix(lines.Text(), "acked "); ok {
			acked, _ = strconv.ParseInt(seq, 10, 64)
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred Close runs
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked == 0 {
		t.Fatal("child acknowledged no append before it was killed")
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	var seen int64
	for {
		evs, err := s.ListEvents(ctx, scanID, seen, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if ev.Seq != seen+1 {
				t.Fatalf("after kill -9: seq %d follows %d", ev.Seq, seen)
			}
			seen = ev.Seq
		}
	}
	if seen < acked {
		t.Fatalf("acknowledged %d events, only %d survived kill -9", acked, seen)
	}
	more, err := s.AppendEvents(ctx, scanID, []store.Event{{Kind: store.EventScanLog, Payload: []byte(`{"message":"after"}`)}})
	if err != nil || more[0].Seq != seen+1 {
		t.Fatalf("append after recovery: %v, %+v (want seq %d)", err, more, seen+1)
	}
	t.Logf("%d events acknowledged, %d on disk after kill -9", acked, seen)
}

// crashChild appends batches forever, printing the last seq of every
// committed batch, until the parent kills it (or a minute passes).
func crashChild() {
	s, err := Open(os.Getenv("VEGA_BOLT_CRASH_PATH"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	scanID := os.Getenv("VEGA_BOLT_CRASH_SCAN")
	batch := make([]store.Event, 10)
	for i := range batch {
		batch[i] = store.Event{Kind: store.EventScanLog, Payload: []byte(`{"message":"crash test line"}`)}
	}
	for stop := time.Now().Add(time.Minute); time.Now().Before(stop); {
		evs, err := s.AppendEvents(context.Background(), scanID, batch)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(2)
		}
		fmt.Printf("acked %d\n", evs[len(evs)-1].Seq)
	}
	os.Exit(0)
}

func seedScan(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	u := &store.User{Email: "crash@example.com"}
	p := &store.Project{OwnerUserID: "", Name: "p"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p.OwnerUserID = u.ID
	if err := s.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	r := &store.Repository{ProjectID: p.ID, OwnerUserID: u.ID, Name: "r", SourceType: store.SourceGit, IngestStatus: store.IngestReady}
	if err := s.CreateRepository(ctx, r); err != nil {
		t.Fatal(err)
	}
	sc := &store.Scan{RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: u.ID}
	if err := s.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if sc.Status != store.ScanQueued || !store.HasPrefix(sc.ID, store.PrefixScan) {
		t.Fatalf("CreateScan defaults: status %q id %q", sc.Status, sc.ID)
	}
	return sc.ID
}

// TestHostileKeys: attacker-sized or empty lookup keys give errors, never a
// panic or a corrupted index.
func TestHostileKeys(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	huge := strings.Repeat("a", 70_000) + "@example.com" // over bbolt's 32 KiB key limit
	if err := s.CreateUser(ctx, &store.User{Email: huge}); err == nil {
		t.Fatal("CreateUser with a 70 KB email succeeded")
	}
	if _, err := s.GetUserByEmail(ctx, huge); err == nil {
		t.Fatal("GetUserByEmail with a 70 KB email found something")
	}
	if err := s.CreateUser(ctx, &store.User{Email: "  "}); err == nil {
		t.Fatal("CreateUser without an email succeeded")
	}
	if err := s.CreateAPIKey(ctx, &store.APIKey{UserID: "usr_x"}); err == nil {
		t.Fatal("CreateAPIKey without a hash succeeded")
	}
	for _, q := range []string{"", "\x00", strings.Repeat("z", 70_000)} {
		if _, err := s.GetAPIKeyByHash(ctx, q); err == nil {
			t.Fatalf("GetAPIKeyByHash(%.10q) found something", q)
		}
		if _, _, err := s.ListProjects(ctx, store.System(), store.Page{Cursor: q}); err != nil {
			t.Fatalf("ListProjects with a hostile cursor: %v", err)
		}
		if _, err := s.GetScanFinding(ctx, q, q); err == nil {
			t.Fatalf("GetScanFinding(%.10q) found something", q)
		}
	}
	u := &store.User{Email: "ok@example.com"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("store unusable after hostile keys: %v", err)
	}
}
