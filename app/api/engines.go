package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/scans"
)

func (h enginesAPI) routes() []Route {
	return []Route{
		Route{"GET", "/engines", h.list, Op{Summary: "List the scan engines: whether each can run here, which run by default, and for an unavailable one why and how to enable it",
			Response: List[scans.EngineStatus]{}}},
	}
}

type enginesAPI struct{ svc *scans.Service }

func (h enginesAPI) list(c *fiber.Ctx) error {
	return c.JSON(NewList(h.svc.Engines(), ""))
}
