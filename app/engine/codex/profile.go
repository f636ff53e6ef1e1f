package codex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// Limits on a generated profile: it is shown and edited in the UI and pasted
// into every later prompt, so a runaway answer must not bloat either.
const (
	maxProfileSummary = 2000
	maxProfileItems   = 20
	maxProfileItem    = 300
)

// GenerateProfile asks Codex to read in.SourceDir and describe it as a threat
// profile (docs/architecture.md, "Sources and threat profiles"). in.LLM is a profile token from the proxy
// (llmproxy.ProfileTokenSource); in.ArtifactDir keeps prompt and raw output.
// emit may be nil. Callers fall back to the deterministic app/profile when
// this fails.
func (e *Engine) GenerateProfile(ctx context.Context, in engine.Input, emit engine.Emitter) (store.ThreatProfileContent, error) {
	if in.LLM.BaseURL == "" || in.LLM.Token == "" {
		return store.ThreatProfileContent{}, errors.New("codex: no LLM endpoint for profile generation")
	}
	if emit == nil {
		emit = engine.Discard{} // profile generation has no scan log
	}
	if in.ArtifactDir == "" {
		dir, err := os.MkdirTemp("", "vega-codex-profile-")
		if err != nil {
			return store.ThreatProfileContent{}, fmt.Errorf("codex: work directory: %w", err)
		}
		defer os.RemoveAll(dir)
		in.ArtifactDir = dir
	}
	prompt, err := renderPrompt(stageProfile, promptData{Exclusions: e.cfg.Exclusions, MaxComponents: e.cfg.MaxComponents})
	if err != nil {
		return store.ThreatProfileContent{}, err
	}
	res, err := e.run(ctx, in, emit, callSpec{stage: stageProfile, label: "profile", prompt: prompt, schema: schemaFor(stageProfile)})
	if err != nil {
		return store.ThreatProfileContent{}, err
	}
	var raw store.ThreatProfileContent
	if err := json.Unmarshal([]byte(res.final), &raw); err != nil {
		return store.ThreatProfileContent{}, fmt.Errorf("codex profile: the answer is not valid JSON: %v", err)
	}
	return sanitizeProfile(raw, newTree(in.SourceDir), in.LLM.Token), nil
}

// sanitizeProfile clips every field, drops secrets, keeps only out-of-scope
// paths that exist in the tree, and defaults an unknown threshold to "low".
func sanitizeProfile(p store.ThreatProfileContent, t *tree, token string) store.ThreatProfileContent {
	list := func(xs []string) []string {
		out := []string{}
		for _, x := range xs {
			if x = clip(x, maxProfileItem, token); x != "" && len(out) < maxProfileItems {
				out = append(out, x)
			}
		}
		return out
	}
	out := store.ThreatProfileContent{
		Summary:         clip(p.Summary, maxProfileSummary, token),
		Assets:          list(p.Assets),
		EntryPoints:     list(p.EntryPoints),
		TrustBoundaries: list(p.TrustBoundaries),
		Focus:           list(p.Focus),
		OutOfScope:      []string{},
	}
	for _, o := range p.OutOfScope {
		rel := cleanRel(strings.TrimSuffix(strings.TrimSpace(o), "/"))
		if rel != "" && t.isDirOrFile(rel) && len(out.OutOfScope) < maxProfileItems {
			out.OutOfScope = append(out.OutOfScope, rel)
		}
	}
	out.SeverityThreshold = store.SeverityLow
	if s, ok := normSeverity(p.SeverityThreshold); ok {
		out.SeverityThreshold = s
	}
	return out
}
