package api

import (
	"io/fs"
	"mime"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/config"
)

const buildHint = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vega</title></head>
<body style="font:16px system-ui,sans-serif;max-width:640px;margin:3rem auto">
<h1>Vega is running</h1><p>This binary was built without the dashboard. Build it with <code>make build</code>
(needs Node 20 and npm), or use the API directly: <a href="/docs">API docs</a>.</p></body></html>`

// uiRoutes serves the embedded dashboard: hashed assets cached for a year,
// index.html never cached, and every other non-API path falls back to
// index.html so deep links work.
func (r *Router) uiRoutes() {
	r.app.Get("/config.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		// Same origin: the dashboard calls the API it was served by.
		return c.JSON(fiber.Map{"api_base_url": ""})
	})
	if !r.deps.Config.ServeUI {
		return
	}
	ui := r.deps.UI
	index, err := readFile(ui, "index.html")
	if err != nil {
		index = []byte(buildHint)
	}
	csp := contentSecurityPolicy(r.deps.Config)
	cache := &assetCache{}
	// send writes a dashboard file in the encoding the client prefers. A
	// Range request gets the whole identity body (ranges of a compressed
	// representation help nobody for files this size), and Accept-Ranges
	// says so.
	send := func(c *fiber.Ctx, p string, raw []byte) error {
		c.Vary(fiber.HeaderAcceptEncoding)
		c.Set(fiber.HeaderAcceptRanges, "none")
		body, enc := raw, ""
		if c.Get(fiber.HeaderRange) == "" {
			body, enc = cache.get(p, raw).pick(c.Get(fiber.HeaderAcceptEncoding))
		}
		if enc != "" {
			c.Set(fiber.HeaderContentEncoding, enc)
		}
		return c.Send(body)
	}
	r.app.Get("/*", func(c *fiber.Ctx) error {
		p := strings.TrimPrefix(path.Clean("/"+c.Params("*")), "/")
		if strings.HasPrefix(p, "v1/") || p == "v1" || strings.HasPrefix(p, "git/") {
			return fiber.ErrNotFound
		}
		if p != "" && p != "index.html" && ui != nil {
			if b, err := readFile(ui, p); err == nil {
				if ct := mime.TypeByExtension(path.Ext(p)); ct != "" {
					c.Set(fiber.HeaderContentType, ct)
				}
				if strings.HasPrefix(p, "assets/") { // Vite puts content hashes in these names
					c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
				} else {
					c.Set(fiber.HeaderCacheControl, "no-cache")
				}
				return send(c, p, b)
			}
			if strings.HasPrefix(p, "assets/") {
				return fiber.ErrNotFound // a missing asset must not become index.html
			}
		}
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set("Content-Security-Policy", csp)
		c.Type("html", "utf-8")
		return send(c, "index.html", index)
	})
}

func readFile(fsys fs.FS, name string) ([]byte, error) {
	if fsys == nil {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(fsys, name)
}

// contentSecurityPolicy is the dashboard's CSP. Scripts only from this origin
// (no inline script), no framing, and fetch/EventSource only to this origin,
// the configured public API origin and the Cognito domain (whose token
// endpoint the dashboard calls), so injected markup cannot send data elsewhere.
func contentSecurityPolicy(cfg *config.Config) string {
	connect := []string{"'self'"}
	if o := origin(cfg.PublicURL); o != "" {
		connect = append(connect, o)
	}
	if cfg.AuthProvider == "cognito" && cfg.Cognito.Domain != "" {
		d := strings.TrimRight(strings.TrimSpace(cfg.Cognito.Domain), "/")
		if !strings.Contains(d, "://") { // the dashboard does the same (ui/src/auth/cognito.ts)
			d = "https://" + d
		}
		if o := origin(d); o != "" {
			connect = append(connect, o)
		}
	}
	return "default-src 'self'; script-src 'self'; object-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
		"connect-src " + strings.Join(connect, " ") + "; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
}

// cspOrigin is what may go into a CSP source list: scheme, host and port only,
// so a configured value cannot smuggle in another directive.
var cspOrigin = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]+)?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// origin returns scheme://host[:port] of a URL, or "" when it has none or it
// is not safe to put into a header.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	o := strings.ToLower(u.Scheme) + "://" + u.Host
	if !cspOrigin.MatchString(o) {
		return ""
	}
	return o
}
