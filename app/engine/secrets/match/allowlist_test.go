package match

import (
	"regexp"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
)

// TestAllowlistConditions pins gitleaks' AND match condition as
// andConditionsHold implements it: only the conditions an allowlist sets
// count, all of them must hold, and a commit condition never holds.
func TestAllowlistConditions(t *testing.T) {
	re := []*regexp.Regexp{regexp.MustCompile("x")}
	cases := []struct {
		name                    string
		a                       config.Allowlist
		pathOK, regexOK, stopOK bool
		want                    bool
	}{
		{"no conditions", config.Allowlist{}, false, false, false, true},
		{"commits never hold", config.Allowlist{Commits: []string{"abc"}}, true, true, true, false},
		{"path holds", config.Allowlist{Paths: re}, true, false, false, true},
		{"path fails", config.Allowlist{Paths: re}, false, true, true, false},
		{"path and regex hold", config.Allowlist{Paths: re, Regexes: re}, true, true, false, true},
		{"path holds, regex fails", config.Allowlist{Paths: re, Regexes: re}, true, false, true, false},
		{"stop word holds", config.Allowlist{StopWords: []string{"s"}}, false, false, true, true},
		{"stop word fails", config.Allowlist{StopWords: []string{"s"}, Regexes: re}, true, true, false, false},
		{"all hold", config.Allowlist{Paths: re, Regexes: re, StopWords: []string{"s"}}, true, true, true, true},
	}
	for _, c := range cases {
		if got := andConditionsHold(&c.a, c.pathOK, c.regexOK, c.stopOK); got != c.want {
			t.Errorf("%s: andConditionsHold = %v, want %v", c.name, got, c.want)
		}
	}
}
