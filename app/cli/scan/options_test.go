package scan

import (
	"errors"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	env := func(string) string { return "" }
	o, err := parseArgs([]string{"--sarif", "out.sarif", "src", "--json", "--fail-on", "CRITICAL", "-b", "base.json"}, env)
	if err != nil || o.path != "src" || o.sarif != "out.sarif" || o.format != "json" || o.failOn != "critical" || o.baseline != "base.json" {
		t.Fatalf("flags around PATH: %+v %v", o, err)
	}
	o, err = parseArgs(nil, func(k string) string {
		if k == "VEGA_SERVER" {
			return "https://vega.example.com"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "--project") {
		t.Fatalf("VEGA_SERVER without --project: %+v %v", o, err)
	}
	if _, err := parseArgs([]string{"-h"}, env); !errors.Is(err, errHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, bad := range [][]string{{"a", "b"}, {"--format", "sarif"}, {"--fail-on", "severe"}, {"--new-only"},
		{"--project", "p"}, {"--server", "https://x", "--project", "p", "--baseline", "b.json"}, {"--max-target-bytes", "-1"}, {"--nope"}} {
		if _, err := parseArgs(bad, env); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

func TestInsecureServer(t *testing.T) {
	for base, want := range map[string]bool{"http://vega.example.com": true, "http://10.0.0.5:8080": true,
		"https://vega.example.com": false, "http://127.0.0.1:8080": false, "http://localhost:8080": false, "http://[::1]:80": false} {
		if got := insecure(base); got != want {
			t.Errorf("%s: %v", base, got)
		}
	}
}
