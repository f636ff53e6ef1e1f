package gitsource

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/vegasec/vega/app/apperr"
)

// The exported Guard (webhook deliveries) keeps the dial-time check: a name
// that resolved to a public address when it was checked and to loopback at
// connect time (DNS rebinding) is refused before any connection, as a
// host_not_allowed error with the client-safe message.
func TestGuardRefusesRebindingAtDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	g := &Guard{g: hostGuard{resolver: &scriptedResolver{answers: [][]netip.Addr{
		{netip.MustParseAddr("93.184.216.34")}, // when the webhook is registered: public
		{netip.MustParseAddr("127.0.0.1")},     // at delivery: loopback
	}}}}
	ctx := context.Background()
	if err := g.Check(ctx, "hooks.example.test"); err != nil {
		t.Fatalf("Check of a public answer: %v", err)
	}
	_, err = g.DialContext(ctx, "tcp", net.JoinHostPort("hooks.example.test", port))
	if !apperr.IsCode(err, apperr.HostNotAllowed) {
		t.Fatalf("dial after rebinding: %v, want host_not_allowed", err)
	}
	if msg := apperr.From(err).Message; msg != `host "hooks.example.test" does not resolve to an address Vega may connect to` {
		t.Fatalf("message %q gives away the internal answer", msg)
	}
	select {
	case <-accepted:
		t.Fatal("a connection reached the loopback listener")
	default:
	}
	// With the opt-in, loopback is allowed; link-local and metadata never.
	open := &Guard{g: hostGuard{allowPrivate: true, resolver: net.DefaultResolver}}
	for _, host := range []string{"169.254.169.254", "fe80::1", "metadata.google.internal"} {
		if err := open.Check(ctx, host); !apperr.IsCode(err, apperr.HostNotAllowed) {
			t.Fatalf("%s with private hosts allowed: %v", host, err)
		}
	}
	if err := open.Check(ctx, "127.0.0.1"); err != nil {
		t.Fatalf("loopback with private hosts allowed: %v", err)
	}
	if err := NewGuard(false).Check(ctx, "127.0.0.1"); !apperr.IsCode(err, apperr.HostNotAllowed) {
		t.Fatalf("loopback without the opt-in: %v", err)
	}
}
