package secrets

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
	"github.com/zricethezav/gitleaks/v8/sources"
)

// countingEmitter discards everything but counts findings.
type countingEmitter struct{ findings atomic.Int64 }

func (c *countingEmitter) Log(string, string)          {}
func (c *countingEmitter) Progress(store.ScanProgress) {}
func (c *countingEmitter) Finding(engine.Report)       { c.findings.Add(1) }
func (c *countingEmitter) Usage(engine.UsageReport)    {}
func (c *countingEmitter) Stage(store.StageResult)     {}

// generateTree writes n source-like files (1–6 KiB, in 200 directories)
// with words that wake gitleaks' keyword prefilter (token, key, secret,
// password, api) and a planted secret in one file out of 250.
func generateTree(tb testing.TB, root string, n int) int64 {
	tb.Helper()
	rng := rand.New(rand.NewPCG(42, 7))
	lines := []string{
		"func handle(w http.ResponseWriter, r *http.Request) {",
		"\ttoken := r.Header.Get(\"Authorization\")",
		"\tif err := validate(token); err != nil { return err }",
		"const apiBase = process.env.API_BASE || 'http://localhost:8080'",
		"def load_key(path):\n    with open(path) as f:\n        return f.read()",
		"// password hashing happens in the auth package; never log the secret",
		"SELECT id, name, email FROM users WHERE id = $1",
		"\tfor i := 0; i < len(items); i++ { total += items[i].Price * items[i].Qty }",
		"export function render(props) { return <div className=\"card\">{props.title}</div> }",
		"logger.info('request complete', { status: res.statusCode, ms: elapsed })",
	}
	exts := []string{".go", ".js", ".py", ".ts", ".java", ".yaml", ".md"}
	var total int64
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, fmt.Sprintf("pkg%03d", i%200), fmt.Sprintf("sub%d", i%7))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		var b strings.Builder
		size := 1024 + rng.IntN(5*1024)
		for b.Len() < size {
			b.WriteString(lines[rng.IntN(len(lines))])
			b.WriteByte('\n')
		}
		if i%250 == 0 {
			s := plant(uint64(i))
			fmt.Fprintf(&b, "AWS_ACCESS_KEY_ID=%s\nGITHUB_TOKEN=%s\n", s.aws, s.github)
		}
		p := filepath.Join(dir, fmt.Sprintf("file%05d%s", i, exts[i%len(exts)]))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(b.Len())
	}
	return total
}

// BenchmarkSecrets compares Engine.Run with the baseline: the same gitleaks
// default rules run directly as a library (sources.Files + DetectSource,
// what `gitleaks dir` does) over the same unpacked tree.
//
//	go test ./app/engine/secrets -run '^$' -bench BenchmarkSecrets -benchtime 3x
func BenchmarkSecrets(b *testing.B) {
	const files = 20000
	root := b.TempDir()
	total := generateTree(b, root, files)
	ctx := context.Background()

	b.Run("gitleaks-library", func(b *testing.B) {
		cfg, err := DefaultRules()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(total)
		b.ResetTimer()
		var found int
		for i := 0; i < b.N; i++ {
			d := newDetector(cfg)
			fs, err := d.DetectSource(ctx, &sources.Files{
				Config: &d.Config, Path: root, Sema: d.Sema, MaxFileSize: DefaultMaxFileBytes,
				FollowSymlinks: false, MaxArchiveDepth: d.MaxArchiveDepth,
			})
			if err != nil {
				b.Fatal(err)
			}
			found = len(fs)
		}
		b.ReportMetric(float64(found), "findings")
	})

	b.Run("engine", func(b *testing.B) {
		e := New()
		if err := e.init(); err != nil { // rule compilation is a one-off per process
			b.Fatal(err)
		}
		b.SetBytes(total)
		b.ResetTimer()
		var found int64
		for i := 0; i < b.N; i++ {
			em := &countingEmitter{}
			if err := e.Run(ctx, engine.Input{SourceDir: root}, em); err != nil {
				b.Fatal(err)
			}
			found = em.findings.Load()
		}
		b.ReportMetric(float64(found), "findings")
	})
}
