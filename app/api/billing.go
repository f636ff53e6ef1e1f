package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/billing"
)

func (h billingAPI) routes() []Route {
	return []Route{
		Route{"GET", "/billing/usage", h.usage, Op{Summary: "Your model usage and estimated cost in [from, to), grouped by day, project or scan",
			Query: []string{"from", "to", "group_by"}, Response: billing.Report{}}},
	}
}

type billingAPI struct{ svc *billing.Service }

func (h billingAPI) usage(c *fiber.Ctx) error {
	from, err := billing.ParseTime("from", c.Query("from"))
	if err != nil {
		return err
	}
	to, err := billing.ParseTime("to", c.Query("to"))
	if err != nil {
		return err
	}
	rep, err := h.svc.Usage(c.UserContext(), Principal(c).User.ID, from, to, c.Query("group_by"))
	if err != nil {
		return err
	}
	return c.JSON(rep)
}
