package match

import (
	"strings"
	"testing"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
)

func defaultConfig(t testing.TB) config.Config {
	t.Helper()
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		t.Fatal(err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		t.Fatal(err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAnchorsCoverTheDenseRules: the rules whose keywords are common words
// must have a keyword-led tail, or every `key` in a bundle runs them.
func TestAnchorsCoverTheDenseRules(t *testing.T) {
	m := New(defaultConfig(t), Options{})
	with, without := 0, []string{}
	for _, sh := range m.shapes {
		if sh.anchor != nil {
			with++
		} else {
			without = append(without, sh.rule.RuleID)
		}
	}
	t.Logf("%d rules anchored; not: %v", with, without)
	for _, id := range []string{"generic-api-key", "aws-access-token", "hashicorp-tf-password", "github-pat"} {
		for _, sh := range m.shapes {
			if sh.rule.RuleID == id && sh.anchor == nil {
				t.Errorf("%s has no keyword-led tail", id)
			}
		}
	}
}
