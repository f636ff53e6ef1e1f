package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/projects"
	"github.com/vegasec/vega/store"
)

func (h projectsAPI) routes() []Route {
	return []Route{
		Route{"GET", "/projects", paged(h.list), Op{Summary: "List your projects with rollups", Response: List[projects.WithStats]{}, Paged: true}},
		Route{"POST", "/projects", withBody(h.create), Op{Summary: "Create a project", Request: projects.Input{}, Response: projects.WithStats{}, Status: 201}},
		Route{"GET", "/projects/:id", byID(Scope, h.svc.Get), Op{Summary: "Get a project with repository count, active scans, last scan and open findings by severity", Response: projects.WithStats{}}},
		Route{"PUT", "/projects/:id", withBody(h.update), Op{Summary: "Rename or describe a project", Request: projects.Input{}, Response: projects.WithStats{}}},
		Route{"DELETE", "/projects/:id", deleteByID(Scope, h.svc.Delete), Op{Summary: "Delete a project and everything under it, blobs included", Status: 204}},
	}
}

type projectsAPI struct{ svc *projects.Service }

func (h projectsAPI) list(c *fiber.Ctx, p store.Page) ([]projects.WithStats, string, error) {
	return h.svc.List(c.UserContext(), Scope(c), p)
}

func (h projectsAPI) create(c *fiber.Ctx, in projects.Input) (*projects.WithStats, error) {
	return h.svc.Create(c.UserContext(), Principal(c).User.ID, in)
}

func (h projectsAPI) update(c *fiber.Ctx, in projects.Input) (*projects.WithStats, error) {
	return h.svc.Update(c.UserContext(), Scope(c), c.Params("id"), in)
}
