package gitsource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/vegasec/vega/app/textsafe"
)

// addrClass says why an address may or may not be dialled.
type addrClass int

const (
	// addrPublic is an ordinary routable address.
	addrPublic addrClass = iota
	// addrPrivate is loopback or private space: allowed only when the
	// operator opted in (VEGA_GIT_ALLOW_PRIVATE_HOSTS), e.g. a self-hosted
	// Gitea next to Vega.
	addrPrivate
	// addrForbidden is never dialled: link-local (where cloud metadata
	// lives), metadata endpoints, unspecified, multicast, broadcast and
	// reserved space.
	addrForbidden
)

var (
	// Metadata endpoints that sit inside ranges we would otherwise only
	// class as private (ULA, CGNAT). Listed so AllowPrivateHosts never
	// opens them.
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack
		netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	}
	// Host names of metadata services, refused before any lookup.
	metadataHosts = []string{"metadata.google.internal", "metadata.goog", "metadata"}

	privatePrefixes = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"), // CGNAT
		netip.MustParsePrefix("198.18.0.0/15"), // benchmarking, used as internal space
		netip.MustParsePrefix("fc00::/7"),      // ULA
	}
	forbiddenPrefixes = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),   // "this network"
		netip.MustParsePrefix("240.0.0.0/4"), // reserved, includes broadcast
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("fec0::/10"), // deprecated site-local
	}
	// Prefixes whose addresses embed an IPv4 address that a translator
	// would reach; the embedded address is classified instead.
	nat64Prefixes = []netip.Prefix{
		netip.MustParsePrefix("64:ff9b::/96"),
		netip.MustParsePrefix("64:ff9b:1::/48"),
	}
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// classify returns how an address may be used.
func classify(a netip.Addr) addrClass {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return addrForbidden
	}
	for _, m := range metadataAddrs {
		if a == m {
			return addrForbidden
		}
	}
	if a.Is6() {
		if v4, ok := embeddedIPv4(a); ok {
			return classify(v4)
		}
	}
	switch {
	case a.IsUnspecified(), a.IsMulticast(), a.IsLinkLocalUnicast(),
		a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return addrForbidden
	case a.IsLoopback():
		return addrPrivate
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(a) {
			return addrForbidden
		}
	}
	for _, p := range privatePrefixes {
		if p.Contains(a) {
			return addrPrivate
		}
	}
	return addrPublic
}

// embeddedIPv4 extracts the IPv4 address carried by NAT64 and 6to4
// addresses, which reach that IPv4 host through a translator.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	for _, p := range nat64Prefixes {
		if p.Contains(a) {
			return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
		}
	}
	if sixToFour.Contains(a) {
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// hostBlockedError is returned when a host cannot be used: it does not
// resolve, or it resolves to (or is) an address that may not be dialled. It
// never carries a URL, only the host name and the reason; Error, with the
// reason, is for the server log, and public is what the client is told.
type hostBlockedError struct {
	host   string
	reason string
}

func (e *hostBlockedError) Error() string {
	return fmt.Sprintf("host %q is not allowed: %s", e.host, e.reason)
}

// public is the client's message. For a host name it is one sentence
// whether the name does not resolve or resolves to an address Vega may not
// dial: two different answers would let anyone who can add a repository map
// the internal DNS names around Vega (docs/limits.md). An address literal
// gives nothing away that the client did not send, so its reason is kept.
func (e *hostBlockedError) public() string {
	if _, err := netip.ParseAddr(e.host); err == nil {
		return textsafe.Sprintf("address %s is not allowed: %s", e.host, e.reason)
	}
	return textsafe.Sprintf("host %q does not resolve to an address Vega may connect to", e.host)
}

// resolver is the DNS lookup the guard uses; net.DefaultResolver in
// production, a scripted one in tests (e.g. to simulate DNS rebinding).
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// hostGuard decides which hosts a clone may talk to. One guard serves one
// clone; it holds no shared state.
type hostGuard struct {
	allowPrivate bool
	resolver     resolver
}

// checkAddr reports whether one concrete address may be dialled.
func (g *hostGuard) checkAddr(host string, a netip.Addr) error {
	switch classify(a) {
	case addrForbidden:
		return &hostBlockedError{host: host, reason: "it resolves to a link-local, metadata or reserved address"}
	case addrPrivate:
		if !g.allowPrivate {
			return &hostBlockedError{host: host, reason: "it resolves to a loopback or private address"}
		}
	}
	return nil
}

// checkHostName refuses names that are never acceptable regardless of what
// they resolve to.
func checkHostName(host string) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "" {
		return &hostBlockedError{host: host, reason: "empty host"}
	}
	for _, m := range metadataHosts {
		if h == m {
			return &hostBlockedError{host: host, reason: "it is a cloud metadata service"}
		}
	}
	return nil
}

// resolve looks a host up and checks every address it returns, so a name
// with one public and one private record is refused as a whole.
func (g *hostGuard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if err := checkHostName(host); err != nil {
		return nil, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if err := g.checkAddr(host, a); err != nil {
			return nil, err
		}
		return []netip.Addr{a}, nil
	}
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // the clone's time is up: reported as a timeout
		}
		return nil, &hostBlockedError{host: host, reason: "it does not resolve: " + err.Error()}
	}
	if len(addrs) == 0 {
		return nil, &hostBlockedError{host: host, reason: "it does not resolve: no addresses"}
	}
	for _, a := range addrs {
		if err := g.checkAddr(host, a); err != nil {
			return nil, err
		}
	}
	return addrs, nil
}

// dialContext resolves through the guard and dials the checked addresses.
// The net.Dialer's Control hook checks the address actually being
// connected to once more, right before connect(2): that is the check that
// matters, and it defeats DNS rebinding between lookup and dial.
func (g *hostGuard) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   g.control(host),
	}
	var firstErr error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		var blocked *hostBlockedError
		if errors.As(err, &blocked) || ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, firstErr
}

// control returns a net.Dialer Control hook that checks the address about
// to be connected to (host is only used in the error message).
func (g *hostGuard) control(host string) func(network, address string, c syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &hostBlockedError{host: host, reason: "unparseable dial address"}
		}
		return g.checkAddr(host, ap.Addr())
	}
}

// maxRedirects bounds redirect chains; git itself stops at a handful too.
const maxRedirects = 5

// checkRedirect re-validates each redirect target before it is followed:
// scheme, host name and every address it resolves to.
func (g *hostGuard) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if s := strings.ToLower(req.URL.Scheme); s != "http" && s != "https" {
		return &hostBlockedError{host: req.URL.Hostname(), reason: "redirect to a non-HTTP scheme"}
	}
	_, err := g.resolve(req.Context(), req.URL.Hostname())
	return err
}
