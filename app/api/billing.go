package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/billing"
)

// BillingRoutes registers GET /v1/billing/usage; add it to Deps.Extra:
//
//	Extra: []func(*api.Router){api.BillingRoutes(billing.New(st, nil))}
func BillingRoutes(svc *billing.Service) func(r *Router) {
	return func(r *Router) {
		r.Authed("GET", "/billing/usage", Op{Tag: "billing", Summary: "Your model usage and estimated cost in [from, to), grouped by day, project or scan",
			Query: []string{"from", "to", "group_by"}, Response: billing.Report{}}, func(c *fiber.Ctx) error {
			from, err := billing.ParseTime("from", c.Query("from"))
			if err != nil {
				return err
			}
			to, err := billing.ParseTime("to", c.Query("to"))
			if err != nil {
				return err
			}
			rep, err := svc.Usage(c.UserContext(), Principal(c).User.ID, from, to, c.Query("group_by"))
			if err != nil {
				return err
			}
			return c.JSON(rep)
		})
	}
}
