package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
)

func (r *Router) healthRoutes(v1 fiber.Router) {
	r.Public("GET", "/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok", "version": r.deps.Version})
	}, Op{Tag: "health", Summary: "Process is up"})
	r.Public("GET", "/readyz", r.readyz, Op{Tag: "health", Summary: "Store, blob store and queue are reachable (503 names the failing one)"})
}

func (r *Router) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := map[string]func() error{
		"store": func() error { return r.deps.Store.Ping(ctx) },
		"blobs": func() error { return r.deps.Blobs.Ping(ctx) },
	}
	for name, f := range r.deps.Ready {
		checks[name] = f
	}
	status := map[string]string{}
	var failing []string
	for name, check := range checks {
		if err := check(); err != nil {
			// The answer says which check failed; only the log says why
			// (the cause can name buckets or hosts).
			r.deps.Logger.Warn("readiness check failed", "check", name, "err", err)
			status[name] = "unavailable"
			failing = append(failing, name)
		} else {
			status[name] = "ok"
		}
	}
	if len(failing) > 0 {
		return apperr.New(apperr.Unavailable, "Not ready: %v unavailable", failing).WithDetails(map[string]any{"checks": status})
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": status})
}
