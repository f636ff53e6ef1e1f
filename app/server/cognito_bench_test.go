package server

import (
	"fmt"
	"testing"

	"github.com/vegasec/vega/app/config"
)

// BenchmarkCognitoRequest measures what a Cognito access token costs a
// request through the real router (RS256 verification and the user read by
// sub), against the built-in provider's access token in the same run, and the
// first request of a new user (the row is made). Both stores:
// VEGA_TEST_STORE=postgres selects Postgres.
func BenchmarkCognitoRequest(b *testing.B) {
	custom := newHarness(b, nil)
	access, _ := custom.login(config.DefaultDebugEmail, config.DefaultDebugPassword)
	h, idp := scriptedPool(b)
	tok := idp.Sign(b, idp.Access("sub-bench", "client-1", "secops"))
	h.me(tok)
	for _, c := range []struct {
		name  string
		h     *harness
		token string
	}{
		{"me, built-in access token (reference)", custom, access},
		{"me, Cognito access token", h, tok},
	} {
		b.Run(c.name, func(b *testing.B) { c.h.benchGet(b, "/v1/auth/me", c.token) })
	}
	b.Run("me, first request of a new Cognito user", func(b *testing.B) {
		hb := h.in(b)
		toks := make([]string, 0, 4096)
		n := 0
		for b.Loop() {
			b.StopTimer()
			if len(toks) == 0 {
				for i := range cap(toks) {
					toks = append(toks, idp.Sign(b, idp.Access(fmt.Sprintf("sub-new-%d-%d", n, i), "client-1")))
				}
				n++
			}
			t := toks[len(toks)-1]
			toks = toks[:len(toks)-1]
			b.StartTimer()
			if r := hb.do("GET", "/v1/auth/me", t, nil); r.Status != 200 {
				b.Fatalf("%d %s", r.Status, r.Body)
			}
		}
	})
}
