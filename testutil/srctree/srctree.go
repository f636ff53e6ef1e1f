// Package srctree writes synthetic source trees for benchmarks, so every
// benchmark that compares against gitleaks measures the same shape of code.
package srctree

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lines are typical source lines, several with words that wake gitleaks'
// keyword prefilter (token, key, secret, password, api), so the detector
// does real work on most files.
var lines = []string{
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

var exts = []string{".go", ".js", ".py", ".ts", ".java", ".yaml", ".md"}

// PlantEvery is how often Write asks for planted secrets (one file in 250).
const PlantEvery = 250

// Write creates n files of 1–6 KiB under root (200 × 7 directories), the same
// bytes for the same n, and appends plant(i) to every PlantEvery-th file.
// It returns the total size written.
func Write(tb testing.TB, root string, n int, plant func(i int) string) int64 {
	tb.Helper()
	rng := rand.New(rand.NewPCG(42, 7))
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
		if i%PlantEvery == 0 && plant != nil {
			b.WriteString(plant(i))
		}
		p := filepath.Join(dir, fmt.Sprintf("file%05d%s", i, exts[i%len(exts)]))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(b.Len())
	}
	return total
}

// AWSKeyLine is a distinct, well-formed AWS access key ID line for i, which
// gitleaks' aws-access-token rule reports.
func AWSKeyLine(i int) string {
	return "aws_access_key_id = " + AWSKeyID(i) + "\n"
}

// AWSKeyID is a distinct, well-formed AWS access key ID for i (the ID is
// base32, A-Z and 2-7, so the suffix is letters).
func AWSKeyID(i int) string {
	suffix := ""
	for k := 0; k < 4; k++ {
		suffix = string(rune('A'+i%26)) + suffix
		i /= 26
	}
	return "AKIAQYLPMN5HHHFP" + suffix
}

// WriteFiles writes files (slash-separated path → content) under root,
// creating directories as needed: the hand-written fixture trees tests share.
func WriteFiles(tb testing.TB, root string, files map[string]string) {
	tb.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
