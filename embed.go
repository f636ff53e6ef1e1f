// Package vega embeds the built dashboard so one binary serves the whole product.
package vega

import "embed"

// UI holds ui/dist: the Vite build output, or only the committed placeholder
// when the dashboard has not been built (the server then explains how).
//
//go:embed all:ui/dist
var UI embed.FS
