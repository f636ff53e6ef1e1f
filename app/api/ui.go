package api

import (
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
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
				return c.Send(b)
			}
			if strings.HasPrefix(p, "assets/") {
				return fiber.ErrNotFound // a missing asset must not become index.html
			}
		}
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' https:; frame-ancestors 'none'; base-uri 'self'")
		c.Type("html", "utf-8")
		return c.Send(index)
	})
}

func readFile(fsys fs.FS, name string) ([]byte, error) {
	if fsys == nil {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(fsys, name)
}
