package findings_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/enginetest"
	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// The real secrets engine on a tree, recorded: the suppressed secret is
// dismissed with the reason, and reopens once the comment is removed.
func TestSecretsSuppressionEndToEnd(t *testing.T) {
	scantest.Stores(t, func(t *testing.T, open func(testing.TB) *scantest.Env) {
		ctx := context.Background()
		f := newFixture(t, open)
		env := f.env
		dir := t.TempDir()
		token := "ghp_" + "x7Kq2mZ9vR4tW1pL8nB3cD6fG0hJ5sA2eY9u"
		write := func(content string) {
			if err := os.WriteFile(filepath.Join(dir, "deploy.sh"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		run := func() *store.Finding {
			t.Helper()
			s := f.scan(t, secrets.Name)
			got := &enginetest.Recorder{}
			if err := secrets.New().Run(ctx, engine.Input{ScanID: s.ID, SourceDir: dir}, got); err != nil {
				t.Fatal(err)
			}
			rec := findings.NewRecorder(env.Store, s, nil)
			var last *store.Finding
			for _, rep := range got.Reports {
				x, err := rec.Record(ctx, secrets.Name, rep)
				if err != nil {
					t.Fatal(err)
				}
				last = x
			}
			if last == nil {
				t.Fatalf("no finding; reports %+v", got.Reports)
			}
			return last
		}
		write("#!/bin/sh\n# vega:ignore:github-pat revoked, kept for the docs\nexport GH_TOKEN=" + token + "\n")
		x := run()
		if x.Status != store.FindingDismissed || x.DismissedReason != store.DismissSuppressedInSource || x.Suppression == nil ||
			x.Suppression.FilePath != "deploy.sh" || x.Suppression.Line != 2 || x.Suppression.Reason != "revoked, kept for the docs" {
			t.Fatalf("suppressed: %s/%s %+v", x.Status, x.DismissedReason, x.Suppression)
		}
		write("#!/bin/sh\nexport GH_TOKEN=" + token + "\n")
		if x = run(); x.Status != store.FindingOpen || x.Suppression != nil {
			t.Fatalf("after removing the comment: %s %+v", x.Status, x.Suppression)
		}
	})
}
