package codex

import "github.com/vegasec/vega/app/engine/enginetest"

// recorder is the shared recording emitter.
type recorder = enginetest.Recorder
