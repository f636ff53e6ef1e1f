package export

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/vegasec/vega/app/export/sariftest"
	"github.com/vegasec/vega/store"
)

// A finding dismissed because the code suppresses it is a SARIF suppression
// of kind inSource, with the comment as justification and its place; the
// document still validates against the official schema.
func TestSARIFInSourceSuppression(t *testing.T) {
	suppressed := store.Finding{ID: "fnd_9", Engine: "secrets", Title: "GitHub token in deploy.sh", Severity: "critical", Confidence: "high",
		Category: "github-pat", FilePath: "deploy.sh", StartLine: 2, EndLine: 2, Status: store.FindingDismissed,
		DismissedReason: store.DismissSuppressedInSource, Fingerprint: "fp-gh",
		Suppression: &store.Suppression{Kind: store.SuppressVegaIgnore, FilePath: "deploy.sh", Line: 1, Text: "# vega:ignore revoked token", Reason: "revoked token"}}
	notHonoured := suppressed
	notHonoured.ID, notHonoured.Fingerprint, notHonoured.Status, notHonoured.DismissedReason = "fnd_10", "fp-gh2", store.FindingOpen, ""
	var buf bytes.Buffer
	if err := SARIF(&buf, append(sampleFindings(), suppressed, notHonoured), fullMeta); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, sariftest.Schema(t), buf.Bytes()); err != nil {
		t.Fatalf("SARIF does not validate: %v\n%s", err, buf.String())
	}
	var doc struct {
		Runs []struct {
			Results []struct {
				Properties   map[string]any
				Suppressions []struct {
					Kind, Status, Justification string
					Location                    struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range doc.Runs[0].Results {
		switch r.Properties["vega_finding_id"] {
		case "fnd_9":
			seen++
			if len(r.Suppressions) != 1 {
				t.Fatalf("suppressions %+v", r.Suppressions)
			}
			s := r.Suppressions[0]
			if s.Kind != "inSource" || s.Status != "accepted" || s.Justification != "# vega:ignore revoked token" ||
				s.Location.PhysicalLocation.ArtifactLocation.URI != "deploy.sh" || s.Location.PhysicalLocation.Region.StartLine != 1 {
				t.Errorf("inSource suppression %+v", s)
			}
		case "fnd_10":
			seen++
			if len(r.Suppressions) != 0 {
				t.Errorf("an open finding (suppressions not honoured) must carry no suppression: %+v", r.Suppressions)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("results seen %d", seen)
	}
}
