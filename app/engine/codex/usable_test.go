package codex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsable(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "codex")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		cfg  Setup
		want string // "" = usable
	}{
		"binary and key":     {Setup{Bin: bin, ProviderKey: true}, ""},
		"binary and proxy":   {Setup{Bin: bin, ProxyURL: "http://proxy:8001"}, ""},
		"no binary":          {Setup{Bin: filepath.Join(t.TempDir(), "nope"), ProviderKey: true}, "not found"},
		"no provider":        {Setup{Bin: bin}, "no model provider"},
		"docker without cli": {Setup{Sandbox: "docker", Bin: bin, ProviderKey: true}, "docker"},
	} {
		t.Run(name, func(t *testing.T) {
			if c.cfg.Sandbox == "docker" {
				t.Setenv("PATH", t.TempDir()) // no docker on this PATH; restored after the subtest
			}
			err := Usable(c.cfg)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
