// Package api is Vega's HTTP surface: the /v1 REST API, the git push remote,
// the OpenAPI document and the embedded dashboard. Handlers only parse input,
// call a service and write JSON; they never hold the store or the blob store
// (docs/architecture.md). Errors are mapped to HTTP in errors.go only.
package api

import (
	"io/fs"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/vegasec/vega/app/billing"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/ops"
	"github.com/vegasec/vega/app/projects"
	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/webhooks"
	"github.com/vegasec/vega/auth"
)

// Deps are the services the API calls, built by the composition root
// (app/server). An area whose service is nil is not registered: its routes
// answer 404 like any unknown route, so a partial router (a test) still starts.
type Deps struct {
	Config   *config.Config
	Auth     *auth.Service
	Projects *projects.Service
	Repos    *repos.Service    // repositories, threat profiles, git uploads and the push remote
	Scans    *scans.Service    // scans and their events
	Findings *findings.Service // findings, triage and exports
	Billing  *billing.Service  // model usage
	Ops      *ops.Service      // operator routes
	Webhooks *webhooks.Service // project webhooks and their delivery log
	Logger   *slog.Logger
	UI       fs.FS  // built dashboard (ui/dist); nil or without index.html = build hint page
	Version  string // reported by /v1/healthz, the OpenAPI document and exports
	// Ready are the readiness checks /v1/readyz runs (store, blobs, queue…).
	Ready []ReadyCheck
}

// maxJSONBody caps JSON request bodies; uploads stream separately.
const maxJSONBody = 1 << 20

// HeaderReadTimeout bounds how long a connection may take to send a request's
// headers; a client that stalls mid-header (slowloris) is disconnected then.
// Once the headers are in, the body gets bodyReadTimeout (large uploads).
const HeaderReadTimeout = 30 * time.Second

const bodyReadTimeout = 10 * time.Minute

// New builds the HTTP application.
func New(d Deps) *fiber.App { return NewRouter(d).App() }

// NewRouter builds the application and returns its router, which also knows
// the documented operations (for the OpenAPI document and tests).
func NewRouter(d Deps) *Router {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	app := fiber.New(fiber.Config{
		AppName:               "vega",
		DisableStartupMessage: true,
		// Strings from the context (params, headers, query, locals set from
		// them) are copies, not views of fasthttp's reused buffers: an SSE
		// stream keeps its scan ID and credential after the handler returns,
		// and a pooled context reused by another request once rewrote a
		// live stream's scan ID to another scan's (docs/architecture.md).
		Immutable: true,
		// Bodies above BodyLimit are streamed to the handler instead of being
		// buffered, so a 1 GiB upload never sits in memory.
		StreamRequestBody: true,
		// and multipart forms are parsed by the handler as they stream, not
		// pre-parsed (which would read a whole upload first).
		DisablePreParseMultipartForm: true,
		BodyLimit:                    maxJSONBody,
		// fasthttp arms ReadTimeout before each request's headers and lets
		// HeaderReceived re-arm it once they are parsed (set below).
		ReadTimeout:    HeaderReadTimeout,
		WriteTimeout:   0, // SSE and large downloads
		IdleTimeout:    2 * time.Minute,
		ErrorHandler:   errorHandler(d.Logger),
		ReadBufferSize: 16 << 10, // long bearer tokens
	})
	app.Server().HeaderReceived = func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
		return fasthttp.RequestConfig{ReadTimeout: bodyReadTimeout}
	}
	r := &Router{deps: d, app: app, hosts: newHostAllowlist(d.Config.HostNames())}
	app.Use(closeAfterUnreadBody) // first: it wraps every handler and middleware
	r.middleware()
	r.routes()
	return r
}

// Router registers routes and records them for the OpenAPI document.
type Router struct {
	deps  Deps
	app   *fiber.App
	hosts hostAllowlist
	v1    fiber.Router
	ops   []Op // every documented operation, for the OpenAPI document
	// closing ends open event streams when the server shuts down (events.go).
	closing *closing
	// outgoing are the requests Vega sends (webhook events), for the
	// document's "webhooks" section.
	outgoing []outgoingWebhook
}
