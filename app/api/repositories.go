package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/store"
)

func (r *Router) repositoryRoutes() {
	h := repositoriesAPI{svc: r.deps.Repos}
	const tag = "repositories"
	r.Add(
		Route{"POST", "/projects/:id/repositories", h.create, Op{Tag: tag, Summary: "Add a repository from a Git URL (JSON) or an archive upload (multipart: archive, name); ingest runs in the background",
			Request: repos.GitInput{}, Multipart: true, Response: store.Repository{}, Status: 201}},
		Route{"GET", "/projects/:id/repositories", h.list, Op{Tag: tag, Summary: "List a project's repositories", Response: List[store.Repository]{}, Paged: true}},
		Route{"GET", "/repositories/:id", h.get, Op{Tag: tag, Summary: "Get a repository and its ingest status", Response: store.Repository{}}},
		Route{"DELETE", "/repositories/:id", h.delete, Op{Tag: tag, Summary: "Delete a repository with its snapshots, scans and findings", Status: 204}},
		Route{"POST", "/repositories/:id/ingest", h.reingest, Op{Tag: tag, Summary: "Re-ingest into a new snapshot: clone a Git repository again (JSON, optional git_token), or upload a new archive for an archive or push repository (multipart; 409 for a Git repository)",
			Request: reingestRequest{}, BodyOptional: true, Multipart: true, Response: store.Repository{}, Status: 202}},
		Route{"GET", "/repositories/:id/snapshots", h.snapshots, Op{Tag: tag, Summary: "List a repository's snapshots", Response: List[store.Snapshot]{}, Paged: true}},
		Route{"GET", "/repositories/:id/tree", h.tree, Op{Tag: tag, Summary: "List one directory of a snapshot (latest unless snapshot_id)", Query: []string{"path", "snapshot_id"}, Response: repos.Tree{}}},
		Route{"GET", "/repositories/:id/file", h.file, Op{Tag: tag, Summary: "Read one file of a snapshot as text (capped at 1 MiB)", Query: []string{"path", "snapshot_id"}, Response: repos.FileContent{}}},
	)
}

type repositoriesAPI struct{ svc *repos.Service }

type reingestRequest struct {
	GitToken string `json:"git_token"`
}

// create takes a Git URL as JSON or an archive as a multipart upload, which
// the service reads as it streams in (never whole in memory).
func (h repositoriesAPI) create(c *fiber.Ctx) error {
	var repo *store.Repository
	var err error
	if isMultipart(c) {
		repo, err = h.svc.CreateFromUpload(c.UserContext(), Scope(c), c.Params("id"), c.Get(fiber.HeaderContentType), BodyReader(c))
	} else {
		var in repos.GitInput
		if err := Decode(c, &in); err != nil {
			return err
		}
		repo, err = h.svc.CreateFromGit(c.UserContext(), Scope(c), c.Params("id"), in)
	}
	if err != nil {
		return err
	}
	return JSON(c, fiber.StatusCreated, repo)
}

func (h repositoriesAPI) list(c *fiber.Ctx) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.List(c.UserContext(), Scope(c), c.Params("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(NewList(items, next))
}

func (h repositoriesAPI) get(c *fiber.Ctx) error {
	repo, err := h.svc.Get(c.UserContext(), Scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(repo)
}

func (h repositoriesAPI) delete(c *fiber.Ctx) error {
	if err := h.svc.Delete(c.UserContext(), Scope(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h repositoriesAPI) reingest(c *fiber.Ctx) error {
	var repo *store.Repository
	var err error
	if isMultipart(c) {
		repo, err = h.svc.ReingestUpload(c.UserContext(), Scope(c), c.Params("id"), c.Get(fiber.HeaderContentType), BodyReader(c))
	} else {
		var in reingestRequest
		if err := DecodeOptional(c, &in); err != nil {
			return err
		}
		repo, err = h.svc.Reingest(c.UserContext(), Scope(c), c.Params("id"), in.GitToken, "")
	}
	if err != nil {
		return err
	}
	return JSON(c, fiber.StatusAccepted, repo)
}

func (h repositoriesAPI) snapshots(c *fiber.Ctx) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.ListSnapshots(c.UserContext(), Scope(c), c.Params("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(NewList(items, next))
}

func (h repositoriesAPI) tree(c *fiber.Ctx) error {
	t, err := h.svc.Tree(c.UserContext(), Scope(c), c.Params("id"), c.Query("snapshot_id"), c.Query("path"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (h repositoriesAPI) file(c *fiber.Ctx) error {
	f, err := h.svc.File(c.UserContext(), Scope(c), c.Params("id"), c.Query("snapshot_id"), c.Query("path"))
	if err != nil {
		return err
	}
	return c.JSON(f)
}
