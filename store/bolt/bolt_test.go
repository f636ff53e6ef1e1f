package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openFresh opens a store in a new file and returns the file's path too, for
// tests that close and open it again (they close it themselves).
func openFresh(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vega.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// reopenWithout drops bucket from s's file, closes it and opens it again:
// an upgrade's first open of a file from before bucket existed.
func reopenWithout(t *testing.T, s *Store, path string, bucket []byte) *Store {
	t.Helper()
	if err := s.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucket) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// createProjectRepo stores a project of owner with one ready repository of
// the given source type, created at now, and returns the repository.
func createProjectRepo(t *testing.T, s *Store, owner, sourceType string, now time.Time) *store.Repository {
	t.Helper()
	ctx := context.Background()
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: owner, Name: "p", CreatedAt: now, UpdatedAt: now}
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: owner, Name: "r",
		SourceType: sourceType, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRepository(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// A file written before idx_refresh_live existed gets the index filled on
// open, so sessions issued before an upgrade keep working (and can be revoked).
func TestOpenFillsTheLiveSessionIndex(t *testing.T) {
	s, path := openFresh(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "a@example.com"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, rs := range []*store.RefreshSession{
		{UserID: u.ID, TokenHash: "live", Family: "fam-live", ExpiresAt: now.Add(time.Hour)},
		{UserID: u.ID, TokenHash: "gone", Family: "fam-gone", ExpiresAt: now.Add(time.Hour), RevokedAt: &now},
	} {
		if err := s.CreateRefreshSession(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	// What an older file looks like: no index bucket at all.
	s = reopenWithout(t, s, path, idxRefreshLive)
	if _, err := s.GetSessionUser(ctx, u.ID, "fam-live", now); err != nil {
		t.Fatalf("a live session from before the index: %v", err)
	}
	if _, err := s.GetSessionUser(ctx, u.ID, "fam-gone", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a revoked session from before the index: %v", err)
	}
	if err := s.RevokeRefreshFamily(ctx, "fam-live", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSessionUser(ctx, u.ID, "fam-live", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked after the upgrade but still live: %v", err)
	}
}

// TestOpenKeepsReadyProfilesAsVersions: a file from before profile versions
// gets a first version of each ready profile on the open that adds the bucket.
func TestOpenKeepsReadyProfilesAsVersions(t *testing.T) {
	s, path := openFresh(t)
	ctx := context.Background()
	now := time.Now().UTC()
	r := createProjectRepo(t, s, "usr_1", store.SourceGit, now)
	if err := s.PutThreatProfile(ctx, &store.ThreatProfile{RepositoryID: r.ID, OwnerUserID: "usr_1", Status: store.ProfileReady,
		Source: store.ProfileSourceEdited, Content: store.ThreatProfileContent{Summary: "hand written"}, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// What an older file looks like: no versions bucket at all.
	s = reopenWithout(t, s, path, bktProfileVers)
	vs, err := s.ListThreatProfileVersions(ctx, store.System(), r.ID)
	if err != nil || len(vs) != 1 || vs[0].Content.Summary != "hand written" || vs[0].Source != store.ProfileSourceEdited {
		t.Fatalf("versions after the upgrade: %+v, %v", vs, err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "vega.db")
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "a@example.com", PasswordHash: "h"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("database file mode %o, want 600", mode)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetUserByEmail(ctx, "A@example.com")
	if err != nil {
		t.Fatalf("user lost across reopen: %v", err)
	}
	if got.ID != u.ID || got.PasswordHash != "h" {
		t.Fatalf("user after reopen = %+v", got)
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vega.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, WithOpenTimeout(200*time.Millisecond))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: got %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

func TestClosedStoreFailsPing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("Ping on a closed store succeeded")
	}
}

func TestCancelledContext(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateUser(ctx, &store.User{Email: "x@example.com"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateUser with a cancelled context: %v", err)
	}
}

func openBench(tb testing.TB) store.Store { return openTemp(tb) }

func BenchmarkAppendEvents(b *testing.B) { storetest.BenchmarkAppendEvents(b, openBench) }

func BenchmarkListEventsAfterSeq(b *testing.B) { storetest.BenchmarkListEventsAfterSeq(b, openBench) }

// A database written before the owned index existed gets it built on open,
// with the source size standing in for the stored size snapshots did not record.
func TestOwnedIndexBuiltForAnOlderDatabase(t *testing.T) {
	s, path := openFresh(t)
	ctx := context.Background()
	now := time.Now().UTC()
	r := createProjectRepo(t, s, "usr_a", store.SourceArchive, now)
	old := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r.ID, OwnerUserID: "usr_a", TotalBytes: 700, CreatedAt: now}
	sized := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r.ID, OwnerUserID: "usr_a", TotalBytes: 900, StoredBytes: 300, CreatedAt: now}
	for _, err := range []error{s.CreateSnapshot(ctx, old), s.CreateSnapshot(ctx, sized)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Make it look like the older layout: no index, no stored size.
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		var rec snapshotRecord
		if err := getJSON(tx.Bucket(bktSnapshots), []byte(old.ID), &rec); err != nil {
			return err
		}
		rec.StoredBytes = 0
		if err := putJSON(tx.Bucket(bktSnapshots), []byte(old.ID), &rec); err != nil {
			return err
		}
		return tx.DeleteBucket(idxOwned)
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.OwnedTotals(ctx, "usr_a")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.OwnedTotals{Projects: 1, Repositories: 1, StoredBytes: 700 + 300}); got != want {
		t.Fatalf("OwnedTotals after the index was built = %+v, want %+v", got, want)
	}
	if sn, _ := s.GetSnapshot(ctx, store.System(), old.ID); sn.StoredBytes != 700 {
		t.Fatalf("the older snapshot's stored size = %d, want its source size", sn.StoredBytes)
	}
}

// BenchmarkOwnedTotals compares the owned index with the walk over every
// record a store without it would make (the baseline), on the same data.
func BenchmarkOwnedTotals(b *testing.B) {
	s := openTemp(b)
	user := storetest.SeedOwned(b, s)
	b.Run("index", func(b *testing.B) { storetest.BenchmarkOwnedTotals(b, s, user) })
	b.Run("full-walk-baseline", func(b *testing.B) {
		for b.Loop() {
			var t store.OwnedTotals
			err := s.db.View(func(tx *bbolt.Tx) error {
				if err := eachOwnedBy(tx, projects, user, func(*store.Project) { t.Projects++ }); err != nil {
					return err
				}
				if err := eachOwnedBy(tx, repos, user, func(*store.Repository) { t.Repositories++ }); err != nil {
					return err
				}
				return eachOwnedBy(tx, snapshots, user, func(sn *store.Snapshot) { t.StoredBytes += sn.StoredBytes })
			})
			if err != nil {
				b.Fatal(err)
			}
			storetest.CheckOwned(b, t)
		}
	})
}

// eachOwnedBy calls fn with every record of t that user owns, decoding all.
func eachOwnedBy[R, T any](tx *bbolt.Tx, t table[R, T], user string, fn func(*T)) error {
	return t.each(tx, func(v *T) error {
		if t.owner(v) == user {
			fn(v)
		}
		return nil
	})
}

func BenchmarkSessionLookup(b *testing.B) { storetest.BenchmarkSessionLookup(b, openBench) }

// Files written before users of an identity provider left the email index
// hold entries for them. Such an entry neither finds that user by email nor
// keeps a local user from taking the address (docs/auth.md).
func TestEmailEntriesOfProviderUsersAreIgnored(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	c := &store.User{ID: store.NewID(store.PrefixUser), Email: "carol@example.com", AuthSubject: "sub-carol",
		Groups: []string{store.GroupUser}, CreatedAt: time.Now().UTC()}
	if err := s.CreateUser(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(idxUserEmail).Put([]byte("carol@example.com"), []byte(c.ID))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserByEmail(ctx, "Carol@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUserByEmail through an old entry: %v, want ErrNotFound", err)
	}
	local := &store.User{ID: store.NewID(store.PrefixUser), Email: "carol@example.com", PasswordHash: "h",
		Groups: []string{store.GroupUser}, CreatedAt: time.Now().UTC()}
	if err := s.CreateUser(ctx, local); err != nil {
		t.Fatalf("local user with the address of an old entry: %v", err)
	}
	got, err := s.GetUserByEmail(ctx, "carol@example.com")
	if err != nil || got.ID != local.ID {
		t.Fatalf("GetUserByEmail = %+v, %v; want the local user", got, err)
	}
	// Deleting the provider's user leaves the local user's entry.
	if err := s.DeleteUser(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetUserByEmail(ctx, "carol@example.com"); err != nil || got.ID != local.ID {
		t.Fatalf("after deleting the provider's user: %+v, %v", got, err)
	}
}
