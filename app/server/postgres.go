package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/migrate"
	"github.com/vegasec/vega/store/postgres"
)

// openPostgres connects and makes sure the schema is current: migrated here
// when VEGA_AUTO_MIGRATE is on, otherwise refused with what to run.
func openPostgres(ctx context.Context, cfg *config.Config) (*postgres.Store, error) {
	st, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres (VEGA_DATABASE_URL): %w", err)
	}
	if cfg.AutoMigrate || cfg.Role == config.RoleMaintenance {
		if _, err := migrate.Migrate(ctx, st.Pool()); err != nil {
			st.Close()
			return nil, fmt.Errorf("apply migrations: %w", err)
		}
		return st, nil
	}
	pending, err := migrate.Pending(ctx, st.Pool())
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("read the schema version: %w", err)
	}
	if len(pending) > 0 {
		st.Close()
		return nil, fmt.Errorf("the database schema is out of date (%d pending: %s); run `vega migrate` first, or start with VEGA_AUTO_MIGRATE=true",
			len(pending), strings.Join(pending, ", "))
	}
	return st, nil
}

// Migrate applies pending migrations (vega migrate) and reports what it did.
func Migrate(ctx context.Context, cfg *config.Config) ([]string, error) {
	if cfg.PersistenceBackend != "postgres" {
		return nil, nil // the bolt store has no schema to migrate
	}
	st, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres (VEGA_DATABASE_URL): %w", err)
	}
	defer st.Close()
	return migrate.Migrate(ctx, st.Pool())
}
