package match

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
	"github.com/zricethezav/gitleaks/v8/report"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func pick(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[rng.IntN(len(alnum))]
	}
	return string(b)
}

// corpus is text in which gitleaks finds things: plain, base64- and
// percent-encoded secrets, dense keywords, long lines, a private key.
func corpus(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 99))
	var b strings.Builder
	for i := 0; i < 400; i++ {
		switch rng.IntN(12) {
		case 0:
			fmt.Fprintf(&b, "aws_access_key_id = AKIA%s\n", strings.ToUpper(pick(rng, 16)))
		case 1:
			fmt.Fprintf(&b, "token: ghp_%s\n", pick(rng, 36))
		case 2:
			fmt.Fprintf(&b, "config = %q\n", base64.StdEncoding.EncodeToString([]byte("password = \""+pick(rng, 20)+"\"")))
		case 3:
			fmt.Fprintf(&b, "url=%s\n", url.QueryEscape("api_key=\""+pick(rng, 32)+"\""))
		case 4:
			fmt.Fprintf(&b, "var a%d=function(t){return t.token||t.key||t.secret};var p={password:\"%s\"};", i, pick(rng, 18))
		case 5:
			b.WriteString("-----BEGIN OPENSSH PRIVATE KEY-----\n")
			for j := 0; j < 8; j++ {
				b.WriteString(base64.StdEncoding.EncodeToString([]byte(pick(rng, 48))) + "\n")
			}
			b.WriteString("-----END OPENSSH PRIVATE KEY-----\n")
		case 6:
			fmt.Fprintf(&b, "  \"secret_key\": \"%s\",\n", pick(rng, 40))
		default:
			b.WriteString("func handle(key string) error { return validate(key) } // the secret token\n")
		}
	}
	return b.String()
}

type fkey struct {
	Rule   string
	Line   int
	Secret string
}

func keysOf(fs []report.Finding) []fkey {
	var out []fkey
	seen := map[fkey]bool{}
	for _, f := range fs {
		k := fkey{f.RuleID, f.StartLine, f.Secret}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// TestDetectAgreesWithGitleaks: on one fragment, Detect reports exactly
// what gitleaks' DetectContext reports (rule, line and secret), decoded
// findings included.
func TestDetectAgreesWithGitleaks(t *testing.T) {
	cfg := defaultConfig(t)
	m := New(cfg, Options{MaxDecodeDepth: DefaultMaxDecodeDepth})
	d := detect.NewDetector(cfg)
	d.MaxDecodeDepth = DefaultMaxDecodeDepth
	d.IgnoreGitleaksAllow = true
	decoded := 0
	for seed := uint64(1); seed <= 4; seed++ {
		raw := corpus(seed)
		gl := d.DetectContext(context.Background(), detect.Fragment{Raw: raw, FilePath: "src/app.js", StartLine: 1})
		for _, f := range gl {
			if strings.Contains(strings.Join(f.Tags, ","), "decoded:") {
				decoded++
			}
		}
		want := keysOf(gl)
		got := keysOf(m.Detect(context.Background(), Segment{Path: "src/app.js", Raw: raw, StartLine: 1, OwnEnd: len(raw)}))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("seed %d:\n got %v\nwant %v", seed, got, want)
		}
		if len(want) < 20 {
			t.Fatalf("seed %d: the corpus should give gitleaks plenty to find, got %d", seed, len(want))
		}
	}
	if decoded == 0 {
		t.Fatal("no decoded findings: the decoding passes went untested")
	}
}

// TestMayDecodeAgreesWithTheDecoder: skipping the decoding pass happens
// only when gitleaks' decoder would find nothing.
func TestMayDecodeAgreesWithTheDecoder(t *testing.T) {
	texts := []string{
		"plain text without anything\nmore\n",
		"a = \"" + base64.StdEncoding.EncodeToString([]byte("hello world, this is text")) + "\"\n",
		"x=%41%42%43 and so on\n",
		"\\u0041\\u0042\n",
		"U+0041 U+0042\n",
		"deadbeefdeadbeefdeadbeefdeadbeef00\n",
		"short_ident_name\n",
		corpus(7),
	}
	for i, s := range texts {
		_, segs := codec.NewDecoder().Decode(s, nil)
		if got, want := mayDecode(s), len(segs) > 0; got != want {
			t.Errorf("text %d: mayDecode %v, decoder found %d segments", i, got, len(segs))
		}
	}
}
