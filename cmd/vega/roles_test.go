package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
)

// TestServiceRoleMigrate: a container configured by environment alone (no
// subcommand, as the ECS migration task in deploy/aws runs it) applies the
// migrations with VEGA_SERVICE_ROLE=migrate, and a second run is a no-op.
func TestServiceRoleMigrate(t *testing.T) {
	env := []string{
		"VEGA_SERVICE_ROLE=migrate",
		"VEGA_PERSISTENCE_BACKEND=postgres",
		"VEGA_DATABASE_URL=" + pgtest.NewDatabase(t),
		"VEGA_AUTH_SECRET=" + strings.Repeat("m", 40),
	}
	run := func() string {
		cmd := exec.Command(apitest.VegaBinary(t)) // no arguments: the role decides
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("vega with VEGA_SERVICE_ROLE=migrate: %v\n%s", err, out)
		}
		return string(out)
	}
	if first := run(); !strings.Contains(first, "applied ") {
		t.Fatalf("first run applied nothing:\n%s", first)
	}
	if second := run(); !strings.Contains(second, "schema is up to date") {
		t.Fatalf("second run is not a no-op:\n%s", second)
	}
}

// TestServiceRoleRejectsUnknown: a typo in the role stops start-up with a
// message naming the variable and the accepted roles, migrate among them.
func TestServiceRoleRejectsUnknown(t *testing.T) {
	cmd := exec.Command(apitest.VegaBinary(t))
	cmd.Env = append(cmd.Environ(), "VEGA_SERVICE_ROLE=migrations")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("want exit 2, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "VEGA_SERVICE_ROLE") || !strings.Contains(string(out), "migrate") {
		t.Fatalf("message does not name the variable and the roles:\n%s", out)
	}
}
