package api

import (
	"github.com/gofiber/fiber/v2"
)

// routes registers every route. Feature areas live in their own files; each
// route is declared with its OpenAPI operation (see openapi.go) so the
// document and the router cannot drift (a test compares them).
func (r *Router) routes() {
	r.app.Get("/v1/openapi.json", r.openAPIJSON)
	r.app.Get("/docs", r.docsPage)

	v1 := r.app.Group("/v1")
	r.v1 = v1
	r.healthRoutes(v1)
	r.authRoutes(v1)
	r.userRoutes(v1)
	r.apiKeyRoutes(v1)
	r.projectRoutes(v1)
	if r.deps.Repos != nil {
		r.repositoryRoutes()
		r.gitPushRoutes()
	}
	for _, extra := range r.deps.Extra {
		extra(r)
	}
	// Anything else under /v1 is an unknown route: 404 in the envelope.
	v1.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	r.uiRoutes()
}

// Public registers an unauthenticated /v1 route.
func (r *Router) Public(method, path string, h fiber.Handler, op Op) {
	op.Method, op.Path, op.Public = method, "/v1"+path, true
	r.ops = append(r.ops, op)
	r.v1.Add(method, path, h)
}

// Authed registers a /v1 route that needs a bearer credential; extra handlers
// (group checks) run after authentication.
func (r *Router) Authed(method, path string, op Op, hs ...fiber.Handler) {
	op.Method, op.Path = method, "/v1"+path
	r.ops = append(r.ops, op)
	r.v1.Add(method, path, append([]fiber.Handler{r.authenticate(op.QueryToken)}, hs...)...)
}

// App exposes the fiber app for routes outside /v1 (the git push remote).
func (r *Router) App() *fiber.App { return r.app }
