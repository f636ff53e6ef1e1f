package server

import (
	"io"
	"log/slog"

	"github.com/vegasec/vega/app/config"
)

// NewLogger builds the process logger: text locally, JSON (CloudWatch) elsewhere.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("service", cfg.Role, "env", cfg.Environment)
}
