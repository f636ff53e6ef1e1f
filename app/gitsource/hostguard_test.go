package gitsource

import (
	"net/netip"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	cases := map[string]addrClass{
		"93.184.216.34":          addrPublic,
		"140.82.112.3":           addrPublic,
		"2606:4700::6810:84e5":   addrPublic,
		"127.0.0.1":              addrPrivate,
		"127.8.9.10":             addrPrivate,
		"::1":                    addrPrivate,
		"10.1.2.3":               addrPrivate,
		"172.16.0.1":             addrPrivate,
		"172.31.255.255":         addrPrivate,
		"192.168.1.1":            addrPrivate,
		"100.64.0.1":             addrPrivate,
		"fd12:3456::1":           addrPrivate,
		"::ffff:10.0.0.1":        addrPrivate,
		"64:ff9b::7f00:1":        addrPrivate, // NAT64 of 127.0.0.1
		"2002:7f00:1::":          addrPrivate, // 6to4 of 127.0.0.1
		"169.254.169.254":        addrForbidden,
		"169.254.0.1":            addrForbidden,
		"fe80::1":                addrForbidden,
		"fd00:ec2::254":          addrForbidden,
		"100.100.100.200":        addrForbidden,
		"0.0.0.0":                addrForbidden,
		"::":                     addrForbidden,
		"224.0.0.251":            addrForbidden,
		"ff02::1":                addrForbidden,
		"255.255.255.255":        addrForbidden,
		"::ffff:169.254.169.254": addrForbidden,
		"64:ff9b::a9fe:a9fe":     addrForbidden,
		"2002:a9fe:a9fe::":       addrForbidden,
		"172.32.0.1":             addrPublic,
		"100.128.0.1":            addrPublic,
	}
	for s, want := range cases {
		if got := classify(netip.MustParseAddr(s)); got != want {
			t.Errorf("classify(%s) = %d, want %d", s, got, want)
		}
	}
}

func TestShortDurations(t *testing.T) {
	for d, want := range map[string]string{"10m0s": "10m", "1h0m0s": "1h", "1h30m0s": "1h30m", "300ms": "300ms", "90s": "1m30s"} {
		dd, _ := time.ParseDuration(d)
		if got := shortDuration(dd); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
