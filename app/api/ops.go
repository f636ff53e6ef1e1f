package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/ops"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

// OpsRoutes registers the operator routes (operator or root); add it to Deps.Extra.
func OpsRoutes(svc *ops.Service) func(r *Router) {
	return func(r *Router) {
		gate := requireGroup(store.GroupOperator, store.GroupRoot)
		tag := "ops"
		r.Authed("GET", "/ops/workers", Op{Tag: tag, Summary: "Registered workers and their heartbeats (operator)", Response: List[ops.WorkerView]{}}, gate, func(c *fiber.Ctx) error {
			ws, err := svc.Workers(c.UserContext())
			if err != nil {
				return err
			}
			return c.JSON(NewList(ws, ""))
		})
		r.Authed("GET", "/ops/limits", Op{Tag: tag, Summary: "Limits and modes in force, with the per-user quotas and the caller's usage of them (operator)", Response: ops.Limits{}}, gate, func(c *fiber.Ctx) error {
			l, err := svc.Limits(c.UserContext(), Principal(c).User.ID)
			if err != nil {
				return err
			}
			return c.JSON(l)
		})
		r.Authed("GET", "/ops/queue", Op{Tag: tag, Summary: "Active scans by status and the oldest queued age (operator)", Response: ops.Queue{}}, gate, func(c *fiber.Ctx) error {
			q, err := svc.Queue(c.UserContext())
			if err != nil {
				return err
			}
			return c.JSON(q)
		})
		r.Authed("POST", "/ops/recover", Op{Tag: tag, Summary: "Run stale-scan recovery now (operator)", Response: scans.RecoverResult{}}, gate, func(c *fiber.Ctx) error {
			res, err := svc.Recover(c.UserContext())
			if err != nil {
				return err
			}
			return c.JSON(res)
		})
		r.Authed("POST", "/ops/cleanup", Op{Tag: tag, Summary: "Remove expired sessions, stale staged uploads, partial writes and orphaned blobs now (operator)", Response: ops.CleanupResult{}}, gate, func(c *fiber.Ctx) error {
			res, err := svc.Cleanup(c.UserContext())
			if err != nil {
				return err
			}
			return c.JSON(res)
		})
	}
}
