package server

import (
	"context"
	"testing"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/ingest"
)

func TestIngestLimitsOfTheDefaultConfigMatchIngestDefaults(t *testing.T) {
	cfg, err := config.Load(context.Background(), config.Source{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if got := ingestLimits(cfg); got != ingest.DefaultLimits() {
		t.Fatalf("config defaults %+v differ from DefaultLimits %+v", got, ingest.DefaultLimits())
	}
}
