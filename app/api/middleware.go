package api

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

const (
	localRequestID = "request_id"
	localPrincipal = "principal"
	// localCredential keeps the raw bearer credential for re-checks; it is
	// never logged.
	localCredential = "credential"
)

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals(localRequestID).(string); ok {
		return v
	}
	return ""
}

func (r *Router) middleware() {
	log := r.deps.Logger
	setSecurityHeaders := securityHeaders(r.deps.Config)
	r.app.Use(func(c *fiber.Ctx) (err error) {
		// A client-supplied ID is echoed only when it is harmless in logs.
		rid := c.Get(fiber.HeaderXRequestID)
		if !safeRequestID.MatchString(rid) {
			rid = store.NewID("req_")
		}
		c.Locals(localRequestID, rid)
		c.Set(fiber.HeaderXRequestID, rid)
		setSecurityHeaders(c)
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic", "request_id", rid, "panic", redactPushTokens(fmt.Sprint(p)))
				err = apperr.New(apperr.Internal, "Internal error")
			}
			if err != nil {
				if herr := r.app.ErrorHandler(c, err); herr != nil {
					log.Error("error handler", "err", redactPushTokens(herr.Error()))
				}
				err = nil
			}
			if isAPIPath(c.Path()) {
				// Set last, so no handler or error path can weaken it: API
				// responses carry source, findings and tokens, which no
				// browser or proxy cache should keep.
				c.Set(fiber.HeaderCacheControl, "no-store")
			}
			// Path only: query strings may carry tokens (SSE access_token),
			// and the push-remote path carries one itself.
			log.Info("http", "request_id", rid, "method", c.Method(), "path", redactPushTokens(c.Path()),
				"status", c.Response().StatusCode(), "duration_ms", time.Since(start).Milliseconds())
		}()
		if err := r.checkHost(c); err != nil {
			return err
		}
		return c.Next()
	})
	if origins := r.deps.Config.CORSAllowedOrigins; len(origins) > 0 {
		// Credentials are allowed for the listed origins so a dashboard hosted
		// there can use the refresh cookie (docs/auth.md; config refuses "*").
		r.app.Use(cors.New(cors.Config{
			AllowOrigins:     strings.Join(origins, ","),
			AllowHeaders:     "Authorization, Content-Type, X-Request-ID, Last-Event-ID",
			ExposeHeaders:    "X-Request-ID, Content-Disposition, Retry-After",
			AllowMethods:     "GET,POST,PUT,PATCH,DELETE,OPTIONS",
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}
}

// isAPIPath reports whether a path is under /v1 (fiber matches routes
// case-insensitively, so this does too).
func isAPIPath(p string) bool {
	return len(p) >= 3 && strings.EqualFold(p[:3], "/v1") && (len(p) == 3 || p[3] == '/')
}

// authenticate requires a bearer credential. allowQuery also accepts
// ?access_token= for EventSource, which cannot send headers.
func (r *Router) authenticate(allowQuery bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if r.deps.Auth == nil {
			return apperr.New(apperr.Unavailable, "Authentication is not configured")
		}
		token := bearerToken(c)
		if token == "" && allowQuery {
			token = c.Query("access_token")
		}
		p, err := r.deps.Auth.Authenticate(c.UserContext(), token)
		if err != nil {
			return err
		}
		c.Locals(localPrincipal, p)
		c.Locals(localCredential, token)
		return c.Next()
	}
}

// bearerToken is the credential of the Authorization header ("" if none).
func bearerToken(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Credential is the bearer credential the request authenticated with, for
// long-lived responses that must re-check it (SSE); only valid behind authenticate.
func Credential(c *fiber.Ctx) string {
	v, _ := c.Locals(localCredential).(string)
	return v
}

// Principal is the authenticated caller; only valid behind authenticate.
func Principal(c *fiber.Ctx) *auth.Principal {
	p, _ := c.Locals(localPrincipal).(*auth.Principal)
	return p
}

// Scope restricts store calls to the caller's own objects.
func Scope(c *fiber.Ctx) store.Scope { return store.OwnedBy(Principal(c).User.ID) }

// requireGroup lets through callers in any of the groups.
func requireGroup(groups ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := Principal(c).User
		for _, g := range groups {
			if u.HasGroup(g) {
				return c.Next()
			}
		}
		return apperr.Forbiddenf("This needs the %s group", strings.Join(groups, " or "))
	}
}
