package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/projects"
)

func (r *Router) projectRoutes() {
	h := projectsAPI{svc: r.deps.Projects}
	const tag = "projects"
	r.Add(
		Route{"GET", "/projects", h.list, Op{Tag: tag, Summary: "List your projects with rollups", Response: List[projects.WithStats]{}, Paged: true}},
		Route{"POST", "/projects", h.create, Op{Tag: tag, Summary: "Create a project", Request: projects.Input{}, Response: projects.WithStats{}, Status: 201}},
		Route{"GET", "/projects/:id", h.get, Op{Tag: tag, Summary: "Get a project with repository count, active scans, last scan and open findings by severity", Response: projects.WithStats{}}},
		Route{"PUT", "/projects/:id", h.update, Op{Tag: tag, Summary: "Rename or describe a project", Request: projects.Input{}, Response: projects.WithStats{}}},
		Route{"DELETE", "/projects/:id", h.delete, Op{Tag: tag, Summary: "Delete a project and everything under it, blobs included", Status: 204}},
	)
}

type projectsAPI struct{ svc *projects.Service }

func (h projectsAPI) list(c *fiber.Ctx) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.List(c.UserContext(), Scope(c), p)
	if err != nil {
		return err
	}
	return c.JSON(NewList(items, next))
}

func (h projectsAPI) create(c *fiber.Ctx) error {
	var in projects.Input
	if err := Decode(c, &in); err != nil {
		return err
	}
	p, err := h.svc.Create(c.UserContext(), Principal(c).User.ID, in)
	if err != nil {
		return err
	}
	return JSON(c, fiber.StatusCreated, p)
}

func (h projectsAPI) get(c *fiber.Ctx) error {
	p, err := h.svc.Get(c.UserContext(), Scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h projectsAPI) update(c *fiber.Ctx) error {
	var in projects.Input
	if err := Decode(c, &in); err != nil {
		return err
	}
	p, err := h.svc.Update(c.UserContext(), Scope(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h projectsAPI) delete(c *fiber.Ctx) error {
	if err := h.svc.Delete(c.UserContext(), Scope(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
