// Package migrations holds Vega's Postgres schema as numbered plain-SQL files
// (0001_init.sql, 0002_….sql, …). They are embedded so the single binary can
// migrate a database without shipping loose files; app/migrate applies them.
//
// Rules for new files: never edit a file that has shipped (the runner records
// versions, not checksums of content), add a new number instead; each file runs
// in its own transaction, so avoid statements that cannot (CREATE INDEX
// CONCURRENTLY, ALTER TYPE … ADD VALUE before PG 12).
package migrations

import "embed"

// FS holds every *.sql file of this directory at the root.
//
//go:embed *.sql
var FS embed.FS
