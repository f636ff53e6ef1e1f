package profile

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/codex"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// Generator derives a threat profile from a snapshot. Manifest is the
// deterministic default; Codex asks the model and falls back to Manifest.
type Generator interface {
	Generate(ctx context.Context, snap *store.Snapshot) (store.ThreatProfileContent, error)
}

// Manifest is the deterministic generator: languages, frameworks and entry
// points recognised from the snapshot's manifest and dependency files (Derive).
// It is the default, and the fallback when the AI generator fails.
type Manifest struct{ Blobs blob.Store }

// maxProfileRead bounds each dependency manifest the generator reads.
const maxProfileRead = 512 << 10

func (m Manifest) Generate(ctx context.Context, snap *store.Snapshot) (store.ThreatProfileContent, error) {
	man, err := ingest.ReadManifest(ctx, m.Blobs, snap)
	if err != nil {
		return store.ThreatProfileContent{}, err
	}
	files := make([]File, 0, len(man.Files))
	for _, f := range man.Files {
		files = append(files, File{Path: f.Path, Size: f.Size, Language: f.Language})
	}
	read := func(path string) ([]byte, error) {
		f, err := ingest.ReadFile(ctx, m.Blobs, snap, path, maxProfileRead)
		if err != nil {
			return nil, err
		}
		return []byte(f.Content), nil
	}
	return Derive(files, read), nil
}

// Tokens mints the proxy token a profile generation sends its model calls
// with (scoped to the repository, honoured only while its profile is being
// generated).
type Tokens interface {
	ProfileToken(ctx context.Context, repositoryID string) (engine.LLM, error)
}

// Codex generates threat profiles with the codex engine and falls back to
// Fallback when Codex fails for any reason: a repository always gets a
// profile the user can review, and a model outage never leaves it empty.
type Codex struct {
	Engine   *codex.Engine
	Tokens   Tokens
	Blobs    blob.Store
	Limits   ingest.Limits // bound the unpacked snapshot like an ingest
	TempDir  string        // existing directory the snapshot is unpacked under
	Fallback Generator
	Log      *slog.Logger
}

func (g *Codex) Generate(ctx context.Context, snap *store.Snapshot) (store.ThreatProfileContent, error) {
	content, err := g.withCodex(ctx, snap)
	if err == nil {
		return content, nil
	}
	g.Log.Warn("codex threat profile failed; using the deterministic profile", "repository_id", snap.RepositoryID, "err", err)
	return g.Fallback.Generate(ctx, snap)
}

func (g *Codex) withCodex(ctx context.Context, snap *store.Snapshot) (store.ThreatProfileContent, error) {
	llm, err := g.Tokens.ProfileToken(ctx, snap.RepositoryID)
	if err != nil {
		return store.ThreatProfileContent{}, err
	}
	work, err := os.MkdirTemp(g.TempDir, "profile-")
	if err != nil {
		return store.ThreatProfileContent{}, err
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	if err := ingest.Unpack(ctx, g.Blobs, snap, src, g.Limits); err != nil {
		return store.ThreatProfileContent{}, err
	}
	art := filepath.Join(work, "artifacts")
	if err := os.MkdirAll(art, 0o700); err != nil {
		return store.ThreatProfileContent{}, err
	}
	return g.Engine.GenerateProfile(ctx, engine.Input{SourceDir: src, LLM: llm, ArtifactDir: art}, nil)
}
