package api

import (
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/textsafe"
)

// hostAllowlist decides which Host headers Vega answers. It is the DNS
// rebinding defence (README "DNS rebinding"): a page on attacker.example
// whose name is re-pointed at 127.0.0.1 becomes same-origin with a local Vega
// in the victim's browser, but its requests still say Host: attacker.example.
//
// Always allowed: IP address literals (a browser only sends one when the page
// itself was loaded from that address, so no name can be rebound onto it;
// this also covers load balancer health checks, which use the target's IP)
// and "localhost" (resolved by the OS, not by the attacker's DNS). Names come
// from the configuration: the listen host, VEGA_PUBLIC_URL's host and
// VEGA_ALLOWED_HOSTS, where ".example.com" means it and every subdomain.
type hostAllowlist struct {
	exact    map[string]bool
	suffixes []string // ".example.com"
}

func newHostAllowlist(names []string) hostAllowlist {
	a := hostAllowlist{exact: map[string]bool{"localhost": true}}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if strings.HasPrefix(n, ".") {
			a.suffixes = append(a.suffixes, n)
			a.exact[n[1:]] = true
		} else if n != "" {
			a.exact[n] = true
		}
	}
	return a
}

// allows reports whether a Host header value ("name", "name:port", "[::1]:8000")
// names this server.
func (a hostAllowlist) allows(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if strings.HasPrefix(hostport, "[") {
		return false // brackets hold IPv6 addresses only
	}
	// A trailing dot is the same name in DNS ("localhost." and "localhost").
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if a.exact[host] {
		return true
	}
	for _, s := range a.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// healthPath answers whatever the Host: it says only that the process is up
// (and its version), and health checkers often address a container by a
// service name nobody would list.
const healthPath = "/v1/healthz"

// checkHost refuses a request for a host this server does not answer to,
// before any route (API, push remote, dashboard) sees it.
func (r *Router) checkHost(c *fiber.Ctx) error {
	host := string(c.Request().Host())
	if r.hosts.allows(host) || c.Path() == healthPath {
		return nil
	}
	r.deps.Logger.Warn("refused a request for a host name this server does not answer to; list it in VEGA_ALLOWED_HOSTS if it is yours",
		"request_id", requestID(c), "host", textsafe.Echo(host))
	return apperr.New(apperr.MisdirectedRequest,
		"This server does not answer to that host name. If it is yours, an operator can add it to VEGA_ALLOWED_HOSTS or set VEGA_PUBLIC_URL.")
}
