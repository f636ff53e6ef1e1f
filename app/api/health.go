package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
)

// healthRoutes are the router's own: they report on its dependencies.
func (r *Router) healthRoutes() []Route {
	return []Route{
		Route{"GET", "/healthz", r.healthz, Op{Summary: "Process is up", Public: true}},
		Route{"GET", "/readyz", r.readyz, Op{Summary: "Store, blob store and queue are reachable (503 names the failing one)", Public: true}},
	}
}

func (r *Router) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": r.deps.Version})
}

// ReadyCheck is one readiness check: Check returns nil when the dependency
// called Name answers.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

func (r *Router) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	status := map[string]string{}
	var failing []string
	for _, check := range r.deps.Ready {
		if err := check.Check(ctx); err != nil {
			// The answer says which check failed; only the log says why
			// (the cause can name buckets or hosts).
			r.deps.Logger.Warn("readiness check failed", "check", check.Name, "err", err)
			status[check.Name] = "unavailable"
			failing = append(failing, check.Name)
		} else {
			status[check.Name] = "ok"
		}
	}
	if len(failing) > 0 {
		return apperr.New(apperr.Unavailable, "Not ready: %v unavailable", failing).WithDetails(map[string]any{"checks": status})
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": status})
}
