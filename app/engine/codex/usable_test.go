package codex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/config"
)

func TestUsable(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "codex")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		cfg  config.Config
		want string // "" = usable
	}{
		"binary and key":     {config.Config{CodexBin: bin, LLMProviderAPIKey: "sk-x"}, ""},
		"binary and proxy":   {config.Config{CodexBin: bin, LLMProxyURL: "http://proxy:8001"}, ""},
		"no binary":          {config.Config{CodexBin: filepath.Join(t.TempDir(), "nope"), LLMProviderAPIKey: "sk-x"}, "not found"},
		"no provider":        {config.Config{CodexBin: bin}, "no model provider"},
		"docker without cli": {config.Config{CodexSandbox: "docker", CodexBin: bin, LLMProviderAPIKey: "sk-x"}, "docker"},
	} {
		t.Run(name, func(t *testing.T) {
			if c.cfg.CodexSandbox == "docker" {
				t.Setenv("PATH", t.TempDir()) // no docker on this PATH; restored after the subtest
			}
			err := Usable(&c.cfg)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
