package api

import (
	"strings"
	"testing"
)

func TestHostAllowlist(t *testing.T) {
	a := newHostAllowlist([]string{"vega.example.com", ".corp.example", "vega.internal."})
	for host, want := range map[string]bool{
		"127.0.0.1":                    true,
		"127.0.0.1:8000":               true,
		"127.0.0.1.:8000":              true,
		"[::1]:8000":                   true,
		"[::1]":                        true,
		"10.0.3.17":                    true, // load balancer health check by target IP
		"localhost":                    true,
		"LocalHost:8000":               true,
		"localhost.":                   true,
		"vega.example.com":             true,
		"VEGA.EXAMPLE.COM:443":         true,
		"corp.example":                 true,
		"a.b.corp.example":             true,
		"vega.internal":                true,
		"":                             false,
		":8000":                        false,
		"attacker.example":             false,
		"127.0.0.1.nip.io":             false,
		"127.0.0.1.nip.io:8000":        false,
		"localtest.me":                 false,
		"foo.localhost":                false,
		"evilcorp.example":             false,
		"vega.example.com.evil.test":   false,
		"example.com":                  false,
		"0x7f.0.0.1":                   false, // not an address literal a browser would send
		"vega.example.com:8000:8000":   false,
		"[vega.example.com]":           false,
		strings.Repeat("a", 300) + ".": false,
	} {
		if got := a.allows(host); got != want {
			t.Errorf("allows(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestRedactPushTokens(t *testing.T) {
	for in, want := range map[string]string{
		"/git/AbC-_123.git/info/refs":          "/git/[redacted].git/info/refs",
		"/git/AbC-_123.git/git-receive-pack":   "/git/[redacted].git/git-receive-pack",
		"/GIT/AbC-_123.git":                    "/GIT/[redacted].git",
		"/git/AbC-_123":                        "/git/[redacted]",
		"/git/a.b.git/x":                       "/git/[redacted].git/x",
		"/git/tok/other":                       "/git/[redacted]/other",
		`Cannot POST /git/tok.git/x`:           `Cannot POST /git/[redacted].git/x`,
		`open "/git/tok.git": no such file`:    `open "/git/[redacted].git": no such file`,
		"/v1/projects/prj_1":                   "/v1/projects/prj_1",
		"/git/":                                "/git/",
		"/v1/repositories/r/file?path=/git/x":  "/v1/repositories/r/file?path=/git/[redacted]",
		"/digit/x":                             "/digit/x",
		"/git/tok.git/a /git/tok2.git/b":       "/git/[redacted].git/a /git/[redacted].git/b",
		"https://vega.example.com/git/tok.git": "https://vega.example.com/git/[redacted].git",
	} {
		if got := redactPushTokens(in); got != want {
			t.Errorf("redactPushTokens(%q) = %q, want %q", in, got, want)
		}
	}
}
