package redact

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestHighEntropyRates measures the token test on random tokens (they must
// be masked) and on this repository's own Go code (identifiers, paths and
// literals must mostly stay). The figures are in docs/redaction.md.
func TestHighEntropyRates(t *testing.T) {
	alphabets := map[string]string{
		"base62": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		"base64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
		"hex":    "0123456789abcdef",
		"base32": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
		"a-z0-9": "abcdefghijklmnopqrstuvwxyz0123456789",
	}
	// Minimum share masked, by length: short tokens are a trade against
	// identifiers; from 32 characters on, a random token is masked.
	minimum := map[int]float64{20: 0.80, 24: 0.85, 32: 0.94, 40: 0.99, 64: 0.99}
	rng := rand.New(rand.NewPCG(7, 11))
	for name, alpha := range alphabets {
		for _, n := range []int{20, 24, 32, 40, 64} {
			hit := 0
			const tries = 1000
			for i := 0; i < tries; i++ {
				b := make([]byte, n)
				for j := range b {
					b[j] = alpha[rng.IntN(len(alpha))]
				}
				if !showsFragment(Text("x "+string(b)+" y"), string(b), 8) {
					hit++
				}
			}
			rate := float64(hit) / tries
			t.Logf("random %-6s %2d chars: %5.1f%% masked", name, n, 100*rate)
			if name == "hex" && n < 32 {
				continue // short hex is ids and colours more often than keys
			}
			if rate < minimum[n] {
				t.Errorf("random %s tokens of %d characters: only %.1f%% masked, want ≥ %.0f%%", name, n, 100*rate, 100*minimum[n])
			}
		}
	}

	// This repository's code, tokens of 20+ characters: the share masked is
	// the readability cost; what is masked there is hashes and test keys.
	src := sourceText(t)
	runs := regexp.MustCompile(`[A-Za-z0-9+/_\-]{20,}`).FindAllString(src, -1)
	seen, masked := map[string]bool{}, 0
	for _, r := range runs {
		if seen[r] {
			continue
		}
		seen[r] = true
		if len(randomParts(r)) > 0 {
			masked++
		}
	}
	share := float64(masked) / float64(len(seen))
	t.Logf("source tokens of 20+ characters: %d distinct, %d (%.1f%%) masked", len(seen), masked, 100*share)
	if share > 0.05 {
		t.Errorf("%.1f%% of this repository's long tokens are masked; identifiers are being eaten", 100*share)
	}
}

// showsFragment reports whether out shows n or more consecutive characters
// of tok.
func showsFragment(out, tok string, n int) bool {
	for i := 0; i+n <= len(tok); i++ {
		if strings.Contains(out, tok[i:i+n]) {
			return true
		}
	}
	return false
}
