package api

import (
	"github.com/gofiber/fiber/v2"
)

// routes registers every route. Each /v1 area has its own file that starts
// with its route table (one Route per operation, registered through Add) and
// continues with the named handlers the table points at.
func (r *Router) routes() {
	r.app.Get("/v1/openapi.json", r.openAPIJSON)
	r.app.Get("/docs", r.docsPage)

	r.v1 = r.app.Group("/v1")
	r.healthRoutes()
	r.authRoutes()
	r.userRoutes()
	r.apiKeyRoutes()
	r.projectRoutes()
	if r.deps.Repos != nil {
		r.repositoryRoutes()
		r.threatProfileRoutes()
		r.gitUploadRoutes()
		r.gitPushRoutes()
	}
	if r.deps.Scans != nil {
		r.scanRoutes()
		r.engineRoutes()
		r.eventRoutes()
	}
	if r.deps.Findings != nil {
		r.findingRoutes()
	}
	if r.deps.Billing != nil {
		r.billingRoutes()
	}
	if r.deps.Ops != nil {
		r.opsRoutes()
	}
	if r.deps.Webhooks != nil {
		r.webhookRoutes()
	}
	// Anything else under /v1 is an unknown route: 404 in the envelope.
	r.v1.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	r.uiRoutes()
}

// Route is one row of an area's route table: a /v1 operation, its handler
// and its OpenAPI description. Registering the two together is what keeps
// the document and the router from drifting (a test compares them).
type Route struct {
	Method  string
	Path    string // below /v1
	Handler fiber.Handler
	Op      Op
}

// Add registers an area's route table on /v1, its operations under tag. A
// route needs a bearer credential unless its Op is Public, and the caller
// must be in one of Op.Groups when it lists any. The route's documented
// success status (Op.Status, 200 unless it says otherwise) is set before its
// handler runs, so the table is the one place that says 201, 202 or 204 and
// a handler only writes its answer.
func (r *Router) Add(tag string, routes ...Route) {
	for _, rt := range routes {
		op := rt.Op
		op.Method, op.Path, op.Tag = rt.Method, "/v1"+rt.Path, tag
		if op.Status == 0 {
			op.Status = fiber.StatusOK
		}
		r.ops = append(r.ops, op)
		var hs []fiber.Handler
		if !op.Public {
			hs = append(hs, r.authenticate(op.QueryToken))
		}
		if len(op.Groups) > 0 {
			hs = append(hs, requireGroup(op.Groups...))
		}
		handler, status := rt.Handler, op.Status
		r.v1.Add(rt.Method, rt.Path, append(hs, func(c *fiber.Ctx) error {
			c.Status(status)
			return handler(c)
		})...)
	}
}

// App exposes the fiber app (the process serves it; tests drive it).
func (r *Router) App() *fiber.App { return r.app }
