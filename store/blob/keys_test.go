package blob_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vegasec/vega/store/blob"
)

func TestParseKeyReadsWhatTheBuildersWrite(t *testing.T) {
	cases := []struct {
		key  string
		want blob.Key
	}{
		{blob.SnapshotKey("rep_1", "snp_2"), blob.Key{Kind: blob.KeySnapshot, ID: "rep_1"}},
		{blob.ManifestKey("rep_1", "snp_2"), blob.Key{Kind: blob.KeySnapshot, ID: "rep_1"}},
		{blob.UploadKey("rep_3"), blob.Key{Kind: blob.KeyUpload, ID: "rep_3"}},
		{blob.ArtifactKey("scn_4", "report.json"), blob.Key{Kind: blob.KeyScan, ID: "scn_4"}},
		{"snapshots/rep_5", blob.Key{Kind: blob.KeySnapshot, ID: "rep_5"}}, // what a crash may leave
		{"exports/x.json", blob.Key{Kind: blob.KeyOther}},
	}
	for _, c := range cases {
		if got := blob.ParseKey(c.key); got != c.want {
			t.Errorf("ParseKey(%q) = %+v, want %+v", c.key, got, c.want)
		}
	}
}

func TestDeleteRepositoryDeletesEveryPartAndKeepsOthers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keep := []string{blob.SnapshotKey("rep_other", "snp_1"), blob.ArtifactKey("scn_other", "a"), blob.UploadKey("rep_other")}
	gone := []string{blob.SnapshotKey("rep_1", "snp_1"), blob.ManifestKey("rep_1", "snp_1"), blob.UploadKey("stg_1"),
		blob.ArtifactKey("scn_1", "a"), blob.ArtifactKey("scn_2", "b")}
	for _, k := range append(append([]string{}, keep...), gone...) {
		if _, err := s.Put(ctx, k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	cancel() // the cascade runs after the rows are gone: a cancelled request must not stop it
	err = blob.DeleteRepository(ctx, s, blob.RepositoryBlobs{RepositoryID: "rep_1", PendingUploadKey: blob.UploadKey("stg_1"), ScanIDs: []string{"scn_1", "scn_2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range gone {
		if _, err := s.Open(context.Background(), k); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s: want deleted, got %v", k, err)
		}
	}
	for _, k := range keep {
		o, err := s.Open(context.Background(), k)
		if err != nil {
			t.Errorf("%s: want kept, got %v", k, err)
			continue
		}
		o.Close()
	}
}
