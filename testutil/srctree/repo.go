package srctree

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// RepoShape is the shape of a generated repository (issue 16: mostly small
// source files, a few hundred multi-megabyte fixtures, generated code and
// minified bundles dense in secret-ish words, vendored directories, and
// planted secrets including multi-line private keys and secrets straddling
// 100 KB boundaries, where gitleaks' own file reader cuts fragments).
type RepoShape struct {
	SmallFiles int // source files of 1–6 KiB
	// LargeFiles are JSON/YAML fixtures, generated code and minified
	// bundles in rotation, sized in [LargeMin, LargeMax].
	LargeFiles         int
	LargeMin, LargeMax int
	VendorFiles        int // small files under vendor/ and third_party/
	// Secrets are planted: a third in small files, the rest in large
	// files, every fourth straddling a 100 KB (and some a 1 MiB) boundary.
	Secrets int
}

// BenchRepoShape is the realistic tree of `make bench` (docs/benchmarks.md):
// loki-like in kind, scaled so gitleaks finishes in minutes on 2 cores.
func BenchRepoShape() RepoShape {
	return RepoShape{SmallFiles: 6000, LargeFiles: 200, LargeMin: 500_000, LargeMax: 5_000_000, VendorFiles: 1000, Secrets: 300}
}

// SmallRepoShape is a tree small enough for the normal test suite, with
// every kind of file and secret of BenchRepoShape.
func SmallRepoShape() RepoShape {
	return RepoShape{SmallFiles: 150, LargeFiles: 4, LargeMin: 1_200_000, LargeMax: 1_500_000, VendorFiles: 30, Secrets: 40}
}

// Planted is one secret written by WriteRepo.
type Planted struct {
	Path  string // repository-relative
	Line  int    // 1-based line of the secret's first byte
	Kind  string // aws, github, private-key, stripe
	Value string
}

// RepoStats describe a tree written by WriteRepo.
type RepoStats struct {
	Files   int
	Bytes   int64
	Planted []Planted
}

// WriteRepo writes a repository of the given shape under root,
// deterministically (the same bytes for the same shape).
func WriteRepo(tb testing.TB, root string, shape RepoShape) RepoStats {
	tb.Helper()
	g := &repoGen{rng: rand.New(rand.NewPCG(16, 2026)), root: root, tb: tb}
	smallSecrets := shape.Secrets / 3
	for i := 0; i < shape.SmallFiles; i++ {
		var b strings.Builder
		size := 1024 + g.rng.IntN(5*1024)
		for b.Len() < size {
			b.WriteString(lines[g.rng.IntN(len(lines))])
			b.WriteByte('\n')
		}
		rel := fmt.Sprintf("pkg/mod%03d/sub%d/file%05d%s", i%150, i%5, i, exts[i%len(exts)])
		if shape.SmallFiles > 0 && smallSecrets > 0 && i%max(1, shape.SmallFiles/smallSecrets) == 0 && g.plantedSmall < smallSecrets {
			g.plantedSmall++
			g.plantAt(&b, rel, g.secret(g.plantedSmall))
		}
		g.write(rel, b.String())
	}
	for i := 0; i < shape.VendorFiles; i++ {
		var b strings.Builder
		for b.Len() < 2048 {
			b.WriteString(lines[g.rng.IntN(len(lines))])
			b.WriteByte('\n')
		}
		dir := []string{"vendor/github.com/acme/lib", "third_party/proto", "node_modules/left-pad"}[i%3]
		g.write(fmt.Sprintf("%s/v%02d/f%04d.go", dir, i%20, i), b.String())
	}
	largeSecrets := shape.Secrets - smallSecrets
	for i := 0; i < shape.LargeFiles; i++ {
		// Skewed towards the small end, as in real repositories: the
		// median is ~1 MB for 0.5–5 MB.
		lo, hi := math.Log(float64(shape.LargeMin)), math.Log(float64(max(shape.LargeMax, shape.LargeMin)))
		u := g.rng.Float64()
		size := int(math.Exp(lo + u*u*(hi-lo)))
		n := largeSecrets / max(1, shape.LargeFiles)
		if i < largeSecrets%max(1, shape.LargeFiles) {
			n++
		}
		g.large(i, size, n)
	}
	return g.stats
}

type repoGen struct {
	rng          *rand.Rand
	root         string
	tb           testing.TB
	stats        RepoStats
	plantedSmall int
	next         int
}

func (g *repoGen) write(rel, content string) {
	p := filepath.Join(g.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		g.tb.Fatal(err)
	}
	g.stats.Files++
	g.stats.Bytes += int64(len(content))
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

func (g *repoGen) pick(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// secret is the n-th planted secret: a line (or, for a private key, a block
// of lines) and what gitleaks should report.
type secretText struct {
	kind, value, text string
}

func (g *repoGen) secret(n int) secretText {
	switch n % 4 {
	case 0:
		v := "AKIA" + g.pick(base32, 16)
		return secretText{"aws", v, "aws_access_key_id = " + v + "\n"}
	case 1:
		v := "ghp_" + g.pick(alnum, 36)
		return secretText{"github", v, "GITHUB_TOKEN=" + v + "\n"}
	case 2:
		v := "sk_live_" + g.pick(alnum, 24)
		return secretText{"stripe", v, "stripe.api_key = '" + v + "'\n"}
	}
	raw := make([]byte, 900)
	for i := range raw {
		raw[i] = byte(g.rng.IntN(256))
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	b.WriteString("-----BEGIN RSA PRIVATE KEY-----\n")
	for len(enc) > 64 {
		b.WriteString(enc[:64] + "\n")
		enc = enc[64:]
	}
	b.WriteString(enc + "\n-----END RSA PRIVATE KEY-----\n")
	return secretText{"private-key", "", b.String()}
}

// plantAt appends s to b as the next line(s) and records where it landed.
func (g *repoGen) plantAt(b *strings.Builder, rel string, s secretText) {
	g.stats.Planted = append(g.stats.Planted, Planted{Path: rel, Line: strings.Count(b.String(), "\n") + 1, Kind: s.kind, Value: s.value})
	b.WriteString(s.text)
}

// Lines of large files: fixtures, generated code and bundles are dense in
// the words that wake gitleaks' prefilter, with values that are mostly not
// secrets (placeholders, hashes, references), as in real test data.
func (g *repoGen) fixtureJSON(b *strings.Builder, i int) {
	fmt.Fprintf(b, "  {\"id\": %d, \"name\": \"user-%d\", \"api_key\": \"${API_KEY}\", \"token_type\": \"bearer\", \"secret_ref\": \"vault:kv/app/%d\", \"password_hash\": \"$2a$10$%s\", \"auth\": {\"access\": \"read\", \"key_id\": \"k-%d\"}},\n",
		i, i, i%97, g.pick(alnum, 53), i%13)
}

func (g *repoGen) fixtureYAML(b *strings.Builder, i int) {
	fmt.Fprintf(b, "- name: svc-%d\n  env:\n    - name: DB_PASSWORD\n      valueFrom: {secretKeyRef: {name: db-%d, key: password}}\n    - name: API_TOKEN\n      value: \"<set-me>\"\n  labels: {team: auth, tier: \"%d\"}\n", i, i%31, i%5)
}

func (g *repoGen) generated(b *strings.Builder, i int) {
	fmt.Fprintf(b, "func (x *AuthToken%d) GetSecretKey() string { if x != nil { return x.SecretKey }; return \"\" } // key field %d of the access token message\n", i%500, i)
}

func (g *repoGen) bundle(b *strings.Builder, i int) {
	fmt.Fprintf(b, "var e%d=function(t,n){var r=t.token||n.key,o=t.secret;return r&&o?{auth:r,password:o.pass,apiKey:n.apiKey}:null};", i)
	if i%40 == 39 {
		b.WriteByte('\n') // bundles have few, very long lines
	}
}

// large writes one large file with n planted secrets; every fourth
// straddles a 100 KB boundary, and a private key straddles a 1 MiB one.
func (g *repoGen) large(i, size, n int) {
	kinds := []struct {
		ext  string
		dir  string
		line func(*strings.Builder, int)
		head string
	}{
		{".json", "fixtures", g.fixtureJSON, "[\n"},
		{".yaml", "deploy/testdata", g.fixtureYAML, ""},
		{".pb.go", "gen/proto", g.generated, "package proto\n"},
		{".min.js", "web/dist", g.bundle, ""},
	}
	k := kinds[i%len(kinds)]
	rel := fmt.Sprintf("%s/large%03d%s", k.dir, i, k.ext)
	var b strings.Builder
	b.Grow(size + 4096)
	b.WriteString(k.head)
	// Where the secrets go: evenly spread, some moved onto a boundary.
	targets := make([]int, n)
	for j := range targets {
		targets[j] = (j + 1) * size / (n + 1)
		if j%4 == 0 {
			boundary := max(100_000, targets[j]/100_000*100_000)
			targets[j] = boundary
		}
	}
	if n > 0 && size > 1<<20+10_000 && i%3 == 0 {
		targets[n-1] = 1 << 20
	}
	sort.Ints(targets)
	next, rec := 0, 0
	for b.Len() < size {
		if next < len(targets) && b.Len()+512 >= targets[next] {
			g.next++
			s := g.secret(g.next)
			// Start the secret so that its middle sits on the boundary.
			pad := targets[next] - b.Len() - len(s.text)/2
			if pad > 0 {
				b.WriteString(strings.Repeat("/", pad-1) + "\n")
			}
			g.plantAt(&b, rel, s)
			next++
			continue
		}
		k.line(&b, rec)
		rec++
	}
	b.WriteString("\n")
	g.write(rel, b.String())
}
