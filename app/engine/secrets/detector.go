package secrets

import (
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/viper"
	"github.com/vegasec/vega/app/engine/secrets/match"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// gitleaksConfigMu serialises building gitleaks configurations. Translate
// consults viper's process-global instance (viper.ConfigFileUsed), so two
// builds racing with anything else touching that global would be a data
// race; this lock is the one piece of package-level state and only protects
// that library call.
var gitleaksConfigMu sync.Mutex

// DefaultRules builds gitleaks' built-in rule set (its embedded
// gitleaks.toml) without touching the file system: no .gitleaks.toml,
// .gitleaksignore or extended config from the scanned repository is ever
// read, because the repository is attacker-controlled and could otherwise
// switch detection off.
func DefaultRules() (config.Config, error) {
	gitleaksConfigMu.Lock()
	defer gitleaksConfigMu.Unlock()

	// A private viper instance keeps us off the global one for parsing.
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		return config.Config{}, fmt.Errorf("secrets: parse gitleaks default rules: %w", err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return config.Config{}, fmt.Errorf("secrets: decode gitleaks default rules: %w", err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return config.Config{}, fmt.Errorf("secrets: compile gitleaks default rules: %w", err)
	}
	// Translate records the global viper's config file as the config path,
	// and the detector skips any fragment at that path. Nothing we scan is
	// our config, so make sure no file is silently exempted.
	cfg.Path = ""
	return cfg, nil
}

// newMatcher prepares cfg for the engine's windowed matching
// (app/engine/secrets/match) with gitleaks' `dir` defaults except where
// Vega deliberately differs: the matcher never drops a hit for an inline
// "gitleaks:allow" comment; suppress.go marks it instead, so a suppression
// in the attacker-controlled repository is visible, never silent
// (docs/findings.md, "In-source suppressions"). Decoding passes (base64, hex, percent)
// run to gitleaks' default depth, so encoded secrets it finds are found.
func newMatcher(cfg config.Config) *match.Matcher {
	return match.New(cfg, match.Options{MaxDecodeDepth: match.DefaultMaxDecodeDepth})
}

// newDetector wraps cfg in a detector configured the way Vega scans:
// inline "gitleaks:allow" comments in the scanned code are not honoured
// (triage happens in Vega, not in the attacker-controlled repository), no
// archive descent, no decoding passes.
func newDetector(cfg config.Config) *detect.Detector {
	d := detect.NewDetector(cfg)
	d.IgnoreGitleaksAllow = true
	d.MaxArchiveDepth = 0
	d.MaxDecodeDepth = 0
	return d
}
