package api

import (
	"github.com/gofiber/fiber/v2"
)

// routes registers every route. Each /v1 area has its own file that starts
// with its route table (one Route per operation, returned by the area's
// routes method and registered here through Add under the area's tag) and
// continues with the named handlers the table points at.
func (r *Router) routes() {
	r.app.Get("/v1/openapi.json", r.openAPIJSON)
	r.app.Get("/docs", r.docsPage)

	r.v1 = r.app.Group("/v1")
	r.Add("health", r.healthRoutes()...)
	r.Add("auth", authAPI{svc: r.deps.Auth, cfg: r.deps.Config}.routes()...)
	r.Add("users", usersAPI{svc: r.deps.Auth}.routes()...)
	r.Add("api keys", apiKeysAPI{svc: r.deps.Auth}.routes()...)
	r.Add("projects", projectsAPI{svc: r.deps.Projects}.routes()...)
	if r.deps.Repos != nil {
		r.Add("repositories", repositoriesAPI{svc: r.deps.Repos}.routes()...)
		r.Add("threat profile", threatProfileAPI{svc: r.deps.Repos}.routes()...)
		r.Add("git uploads", gitUploadsAPI{svc: r.deps.Repos}.routes()...)
		push := gitPushAPI{svc: r.deps.Repos}
		r.app.Get("/git/*", push.serve)
		r.app.Post("/git/*", push.serve)
	}
	if r.deps.Scans != nil {
		r.closing = &closing{ch: make(chan struct{})}
		r.Add("scans", scansAPI{svc: r.deps.Scans, findings: r.deps.Findings}.routes()...)
		r.Add("scans", enginesAPI{svc: r.deps.Scans}.routes()...)
		r.Add("scans", eventsAPI{svc: r.deps.Scans, auth: r.deps.Auth, closing: r.closing}.routes()...)
	}
	if r.deps.Findings != nil {
		r.Add("findings", findingsAPI{svc: r.deps.Findings, version: r.deps.Version}.routes()...)
	}
	if r.deps.Billing != nil {
		r.Add("billing", billingAPI{svc: r.deps.Billing}.routes()...)
	}
	if r.deps.Ops != nil {
		r.Add("ops", opsAPI{svc: r.deps.Ops}.routes()...)
	}
	if r.deps.Webhooks != nil {
		r.Add("webhooks", webhooksAPI{svc: r.deps.Webhooks}.routes()...)
		r.outgoing = outgoingWebhooks
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
