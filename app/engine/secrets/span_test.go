package secrets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/srctree"
)

// spanText cuts a location's secret span out of the file, the way the
// dashboard does: lines split at \n, columns in code points, end inclusive.
func spanText(t *testing.T, root string, l store.Location) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, l.FilePath))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []string
	for n := l.StartLine; n <= l.EndLine; n++ {
		r := []rune(lines[n-1])
		from, to := 0, len(r)
		if n == l.StartLine {
			from = l.StartColumn - 1
		}
		if n == l.EndLine {
			to = l.EndColumn
		}
		out = append(out, string(r[from:to]))
	}
	return strings.Join(out, "\n")
}

func TestLocationsCarryTheSecretSpan(t *testing.T) {
	s := plant(1)
	root := t.TempDir()
	srctree.WriteFiles(t, root, map[string]string{
		"config/app.env":  "# app settings\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID=" + s.aws + "\n",
		"deploy/ci.env":   "é😀 = 'x'; AWS_KEY_ID=\"" + s.aws + "\" # twice: " + s.aws + "\n",
		"keys/server.pem": "\n" + s.privateKey + "\n",
		"src/deploy.sh":   "#!/bin/sh\n\n  export GH_TOKEN=" + s.github + "\n",
		"app/settings.py": "import os\n\nDEBUG = False\n\nclient_secret = \"" + s.generic + "\"\n",
	})
	rec := &recorder{}
	if err := New().Run(context.Background(), engine.Input{ScanID: "scan_1", SourceDir: root}, rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"aws-access-token": s.aws, "github-pat": s.github, "generic-api-key": s.generic, "private-key": s.privateKey}
	seen := 0
	for _, rep := range rec.Final() {
		secret, ok := want[rep.Category]
		if !ok {
			continue
		}
		for _, l := range rep.Locations {
			seen++
			if !l.Secret || l.StartColumn < 1 || l.EndColumn < 1 {
				t.Errorf("%s at %s:%d: no span: %+v", rep.Category, l.FilePath, l.StartLine, l)
				continue
			}
			if got := spanText(t, root, l); !strings.Contains(secret, got) || len(got) < len(secret)-len("-----BEGIN RSA PRIVATE KEY-----\n") {
				t.Errorf("%s at %s: span %d:%d-%d:%d holds %q, want the secret %q", rep.Category, l.FilePath, l.StartLine, l.StartColumn, l.EndLine, l.EndColumn, got, secret)
			}
		}
	}
	if seen < 5 {
		t.Errorf("want at least 5 secret locations, saw %d", seen)
	}
}
