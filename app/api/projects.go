package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/projects"
)

func (r *Router) projectRoutes(v1 fiber.Router) {
	svc := r.deps.Projects
	tag := "projects"
	r.Authed("GET", "/projects", Op{Tag: tag, Summary: "List your projects with rollups", Response: List[projects.WithStats]{}, Paged: true}, func(c *fiber.Ctx) error {
		p, err := PageParams(c)
		if err != nil {
			return err
		}
		items, next, err := svc.List(c.UserContext(), Scope(c), p)
		if err != nil {
			return err
		}
		return c.JSON(NewList(items, next))
	})
	r.Authed("POST", "/projects", Op{Tag: tag, Summary: "Create a project", Request: projects.Input{}, Response: projects.WithStats{}, Status: 201}, func(c *fiber.Ctx) error {
		var in projects.Input
		if err := Decode(c, &in); err != nil {
			return err
		}
		p, err := svc.Create(c.UserContext(), Principal(c).User.ID, in)
		if err != nil {
			return err
		}
		return JSON(c, fiber.StatusCreated, p)
	})
	r.Authed("GET", "/projects/:id", Op{Tag: tag, Summary: "Get a project with repository count, active scans, last scan and open findings by severity", Response: projects.WithStats{}}, func(c *fiber.Ctx) error {
		p, err := svc.Get(c.UserContext(), Scope(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(p)
	})
	r.Authed("PUT", "/projects/:id", Op{Tag: tag, Summary: "Rename or describe a project", Request: projects.Input{}, Response: projects.WithStats{}}, func(c *fiber.Ctx) error {
		var in projects.Input
		if err := Decode(c, &in); err != nil {
			return err
		}
		p, err := svc.Update(c.UserContext(), Scope(c), c.Params("id"), in)
		if err != nil {
			return err
		}
		return c.JSON(p)
	})
	r.Authed("DELETE", "/projects/:id", Op{Tag: tag, Summary: "Delete a project and everything under it, blobs included", Status: 204}, func(c *fiber.Ctx) error {
		if err := svc.Delete(c.UserContext(), Scope(c), c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
