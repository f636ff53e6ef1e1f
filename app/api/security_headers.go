package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/config"
)

// baseContentSecurityPolicy is the policy of every response that is not the
// dashboard's page (which sets its own, contentSecurityPolicy): API JSON,
// downloads, errors, /docs. Nothing in them may run script, load anything or
// be framed, so a stored file or a finding opened straight in a browser tab
// stays inert. /docs has an inline <style> and nothing else.
const baseContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// hstsValue is sent when the public URL is https: browsers that saw Vega over
// https never downgrade to http for a year. Subdomains are left to the
// operator, who may serve other things under the same domain.
const hstsValue = "max-age=31536000"

// securityHeaders returns what every response carries: no MIME sniffing, no
// referrer, no framing, a deny-by-default CSP (the dashboard's page replaces
// it with its own) and HSTS behind an https public URL.
func securityHeaders(cfg *config.Config) func(c *fiber.Ctx) {
	https := strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")
	return func(c *fiber.Ctx) {
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Referrer-Policy", "no-referrer")
		c.Set("X-Frame-Options", "DENY")
		c.Set("Content-Security-Policy", baseContentSecurityPolicy)
		if https {
			c.Set("Strict-Transport-Security", hstsValue)
		}
	}
}

// attachment makes a response a download: the browser saves it under a
// file name made of [A-Za-z0-9._-] only (nothing that could end the quoted
// string or smuggle a path), and never renders it on Vega's origin.
func attachment(c *fiber.Ctx, name string) {
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+safeFileName(name)+`"`)
	c.Set("X-Content-Type-Options", "nosniff")
}

// safeFileName keeps ASCII letters, digits, '.', '-' and '_' of name (others
// become '_'), at most 120 of them, without leading dots.
func safeFileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() == 120 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		return "download"
	}
	return out
}
