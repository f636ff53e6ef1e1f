package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/store"
)

func (r *Router) gitUploadRoutes() {
	h := gitUploadsAPI{svc: r.deps.Repos}
	const tag = "git uploads"
	r.Add(
		Route{"POST", "/git-uploads", h.create, Op{Tag: tag, Summary: "Create a one-time push remote: git push <remote_url> HEAD:main makes a repository", Request: repos.GitUploadInput{}, Response: repos.CreatedGitUpload{}, Status: 201}},
		Route{"GET", "/git-uploads/:id", h.get, Op{Tag: tag, Summary: "Status of a push remote (waiting, received, expired) and the repository it made", Response: store.GitUpload{}}},
	)
}

type gitUploadsAPI struct{ svc *repos.Service }

func (h gitUploadsAPI) create(c *fiber.Ctx) error {
	var in repos.GitUploadInput
	if err := Decode(c, &in); err != nil {
		return err
	}
	g, err := h.svc.CreateGitUpload(c.UserContext(), Scope(c), Principal(c).User.ID, in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return JSON(c, fiber.StatusCreated, g)
}

func (h gitUploadsAPI) get(c *fiber.Ctx) error {
	g, err := h.svc.GetGitUpload(c.UserContext(), Scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(g)
}
