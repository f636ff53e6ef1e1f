package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/ops"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

func (h opsAPI) routes() []Route {
	operator := []string{store.GroupOperator, store.GroupRoot}
	return []Route{
		Route{"GET", "/ops/workers", noInput(h.workers), Op{Summary: "Registered workers and their heartbeats (operator)", Response: List[ops.WorkerView]{}, Groups: operator}},
		Route{"GET", "/ops/limits", answer(h.limits), Op{Summary: "Limits and modes in force, with the per-user quotas and the caller's usage of them (operator)", Response: ops.Limits{}, Groups: operator}},
		Route{"GET", "/ops/queue", noInput(h.svc.Queue), Op{Summary: "Active scans by status and the oldest queued age (operator)", Response: ops.Queue{}, Groups: operator}},
		Route{"POST", "/ops/recover", noInput(h.svc.Recover), Op{Summary: "Run stale-scan recovery now (operator)", Response: scans.RecoverResult{}, Groups: operator}},
		Route{"POST", "/ops/cleanup", noInput(h.svc.Cleanup), Op{Summary: "Remove expired sessions, stale staged uploads, partial writes and orphaned blobs now (operator)", Response: ops.CleanupResult{}, Groups: operator}},
	}
}

type opsAPI struct{ svc *ops.Service }

func (h opsAPI) workers(ctx context.Context) (List[ops.WorkerView], error) {
	return listed(h.svc.Workers(ctx))
}

func (h opsAPI) limits(c *fiber.Ctx) (*ops.Limits, error) {
	return h.svc.Limits(c.UserContext(), Principal(c).User.ID)
}
