// Package secretstest holds helpers for tests and benchmarks that compare
// the secrets engine with gitleaks.
package secretstest

import (
	"context"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/sources"

	"github.com/vegasec/vega/app/engine/secrets"
)

// GitleaksDirCount runs gitleaks' default detector as a library over dir
// (sources.Files + DetectSource, what `gitleaks dir` does, with the engine's
// file-size cap) and counts its findings: the baseline the scan benchmarks
// measure against.
func GitleaksDirCount(ctx context.Context, tb testing.TB, dir string) int {
	tb.Helper()
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		tb.Fatal(err)
	}
	fs, err := d.DetectSource(ctx, &sources.Files{Config: &d.Config, Path: dir, Sema: d.Sema,
		MaxFileSize: secrets.DefaultMaxFileBytes, MaxArchiveDepth: d.MaxArchiveDepth})
	if err != nil {
		tb.Fatal(err)
	}
	return len(fs)
}
