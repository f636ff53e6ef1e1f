package scan

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/vegasec/vega/store"
)

// maxBaselineBytes bounds what --baseline reads: a report of 100,000
// findings is well under it.
const maxBaselineBytes = 512 << 20

// readBaseline reads an earlier `vega scan --format json` output (the
// export's JSON document) and returns its findings' fingerprints. A finding
// keeps its fingerprint across scans of the same code (docs/findings.md), so
// what is not in the set is new.
func readBaseline(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxBaselineBytes {
		return nil, fmt.Errorf("--baseline: %s is larger than %d bytes", path, maxBaselineBytes)
	}
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Findings      []struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"findings"`
	}
	if err := json.NewDecoder(f).Decode(&doc); err != nil {
		return nil, fmt.Errorf("--baseline: %s is not the JSON of `vega scan --format json`: %w", path, err)
	}
	if doc.SchemaVersion == 0 || doc.Findings == nil {
		return nil, fmt.Errorf("--baseline: %s is not the JSON of `vega scan --format json` (no schema_version or findings)", path)
	}
	known := make(map[string]bool, len(doc.Findings))
	for _, x := range doc.Findings {
		if x.Fingerprint != "" {
			known[x.Fingerprint] = true
		}
	}
	return known, nil
}

// notIn keeps the findings whose fingerprint is not in known.
func notIn(findings []store.Finding, known map[string]bool) []store.Finding {
	out := make([]store.Finding, 0, len(findings))
	for _, f := range findings {
		if !known[f.Fingerprint] {
			out = append(out, f)
		}
	}
	return out
}
