package gitsource

import (
	"context"
	"errors"
	"net"

	"github.com/vegasec/vega/app/apperr"
)

// Guard is the address policy of Git URLs (hostguard.go), offered to the
// other outbound HTTP Vega makes to a user's URL — webhook deliveries
// (app/webhooks, docs/webhooks.md) — so there is one policy, not two copies:
// link-local and metadata addresses never, loopback and private space only
// when allowPrivate, and the connected address checked again at dial time.
type Guard struct{ g hostGuard }

// NewGuard returns a guard; allowPrivate is the caller's own opt-in
// variable (VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS for webhooks).
func NewGuard(allowPrivate bool) *Guard {
	return &Guard{g: hostGuard{allowPrivate: allowPrivate, resolver: net.DefaultResolver}}
}

// Check resolves host and refuses it unless every address it has may be
// dialled; the refusal is a host_not_allowed error with the client-safe message.
func (g *Guard) Check(ctx context.Context, host string) error {
	_, err := g.g.resolve(ctx, host)
	return publicBlocked(err)
}

// DialContext is an http.Transport DialContext that resolves through the
// guard and checks the address actually connected to right before
// connect(2), which defeats DNS rebinding between Check and the dial.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := g.g.dialContext(ctx, network, addr)
	return conn, publicBlocked(err)
}

// publicBlocked turns a refusal into host_not_allowed with the message a
// client may see (no DNS answers of internal names); other errors pass.
func publicBlocked(err error) error {
	var blocked *hostBlockedError
	if errors.As(err, &blocked) {
		return apperr.Text(apperr.HostNotAllowed, blocked.public()).Wrap(err)
	}
	return err
}
