// Command vega is the single Vega binary: API server, worker, runner, LLM proxy
// and maintenance, selected by subcommand or VEGA_SERVICE_ROLE.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("vega", version)
		return
	}
	fmt.Fprintln(os.Stderr, "vega: not wired yet")
	os.Exit(2)
}
