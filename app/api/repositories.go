package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/store"
)

func (h repositoriesAPI) routes() []Route {
	return []Route{
		Route{"POST", "/projects/:id/repositories", answer(h.create), Op{Summary: "Add a repository from a Git URL (JSON) or an archive upload (multipart: archive, name); ingest runs in the background",
			Request: repos.GitInput{}, Multipart: true, Response: store.Repository{}, Status: 201}},
		Route{"GET", "/projects/:id/repositories", pageByID(Scope, h.svc.List), Op{Summary: "List a project's repositories", Response: List[store.Repository]{}, Paged: true}},
		Route{"GET", "/repositories/:id", byID(Scope, h.svc.Get), Op{Summary: "Get a repository and its ingest status", Response: store.Repository{}}},
		Route{"DELETE", "/repositories/:id", deleteByID(Scope, h.svc.Delete), Op{Summary: "Delete a repository with its snapshots, scans and findings", Status: 204}},
		Route{"POST", "/repositories/:id/ingest", answer(h.reingest), Op{Summary: "Re-ingest into a new snapshot: clone a Git repository again (JSON, optional git_token), or upload a new archive for an archive or push repository (multipart; 409 for a Git repository)",
			Request: reingestRequest{}, BodyOptional: true, Multipart: true, Response: store.Repository{}, Status: 202}},
		Route{"GET", "/repositories/:id/snapshots", pageByID(Scope, h.svc.ListSnapshots), Op{Summary: "List a repository's snapshots", Response: List[store.Snapshot]{}, Paged: true}},
		Route{"GET", "/repositories/:id/tree", answer(h.tree), Op{Summary: "List one directory of a snapshot (latest unless snapshot_id)", Query: []string{"path", "snapshot_id"}, Response: repos.Tree{}}},
		Route{"GET", "/repositories/:id/file", answer(h.file), Op{Summary: "Read one file of a snapshot as text (capped at 1 MiB)", Query: []string{"path", "snapshot_id"}, Response: repos.FileContent{}}},
	}
}

type repositoriesAPI struct{ svc *repos.Service }

type reingestRequest struct {
	GitToken string `json:"git_token"`
}

// create takes a Git URL as JSON or an archive as a multipart upload, which
// the service reads as it streams in (never whole in memory).
func (h repositoriesAPI) create(c *fiber.Ctx) (*store.Repository, error) {
	if isMultipart(c) {
		return h.svc.CreateFromUpload(c.UserContext(), Scope(c), c.Params("id"), c.Get(fiber.HeaderContentType), BodyReader(c))
	}
	var in repos.GitInput
	if err := Decode(c, &in); err != nil {
		return nil, err
	}
	return h.svc.CreateFromGit(c.UserContext(), Scope(c), c.Params("id"), in)
}

// reingest takes a new archive as a multipart upload, or (JSON, which may be
// left out) clones a Git repository again.
func (h repositoriesAPI) reingest(c *fiber.Ctx) (*store.Repository, error) {
	if isMultipart(c) {
		return h.svc.ReingestUpload(c.UserContext(), Scope(c), c.Params("id"), c.Get(fiber.HeaderContentType), BodyReader(c))
	}
	var in reingestRequest
	if err := DecodeOptional(c, &in); err != nil {
		return nil, err
	}
	return h.svc.Reingest(c.UserContext(), Scope(c), c.Params("id"), in.GitToken, "")
}

func (h repositoriesAPI) tree(c *fiber.Ctx) (*repos.Tree, error) {
	return h.svc.Tree(c.UserContext(), Scope(c), c.Params("id"), c.Query("snapshot_id"), c.Query("path"))
}

func (h repositoriesAPI) file(c *fiber.Ctx) (*repos.FileContent, error) {
	return h.svc.File(c.UserContext(), Scope(c), c.Params("id"), c.Query("snapshot_id"), c.Query("path"))
}
