package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/ops"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

func (r *Router) opsRoutes() {
	h := opsAPI{svc: r.deps.Ops}
	const tag = "ops"
	operator := []string{store.GroupOperator, store.GroupRoot}
	r.Add(
		Route{"GET", "/ops/workers", h.workers, Op{Tag: tag, Summary: "Registered workers and their heartbeats (operator)", Response: List[ops.WorkerView]{}, Groups: operator}},
		Route{"GET", "/ops/limits", h.limits, Op{Tag: tag, Summary: "Limits and modes in force, with the per-user quotas and the caller's usage of them (operator)", Response: ops.Limits{}, Groups: operator}},
		Route{"GET", "/ops/queue", h.queue, Op{Tag: tag, Summary: "Active scans by status and the oldest queued age (operator)", Response: ops.Queue{}, Groups: operator}},
		Route{"POST", "/ops/recover", h.recover, Op{Tag: tag, Summary: "Run stale-scan recovery now (operator)", Response: scans.RecoverResult{}, Groups: operator}},
		Route{"POST", "/ops/cleanup", h.cleanup, Op{Tag: tag, Summary: "Remove expired sessions, stale staged uploads, partial writes and orphaned blobs now (operator)", Response: ops.CleanupResult{}, Groups: operator}},
	)
}

type opsAPI struct{ svc *ops.Service }

func (h opsAPI) workers(c *fiber.Ctx) error {
	ws, err := h.svc.Workers(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(NewList(ws, ""))
}

func (h opsAPI) limits(c *fiber.Ctx) error {
	l, err := h.svc.Limits(c.UserContext(), Principal(c).User.ID)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (h opsAPI) queue(c *fiber.Ctx) error {
	q, err := h.svc.Queue(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(q)
}

func (h opsAPI) recover(c *fiber.Ctx) error {
	res, err := h.svc.Recover(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h opsAPI) cleanup(c *fiber.Ctx) error {
	res, err := h.svc.Cleanup(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(res)
}
