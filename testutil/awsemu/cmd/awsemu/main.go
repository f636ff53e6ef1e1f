// Command awsemu runs the test AWS emulator (testutil/awsemu) as a process,
// for scripts that start the real `vega` binary against it (benchmarks). It
// creates the buckets named on the command line, prints the environment a
// client needs as `export` lines, then "ready", and runs until interrupted.
//
//	awsemu -buckets vega-source,vega-artifacts
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/vegasec/vega/testutil/awsemu"
)

func main() {
	buckets := flag.String("buckets", "", "comma-separated buckets to create")
	flag.Parse()
	e, err := awsemu.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsemu:", err)
		os.Exit(1)
	}
	defer e.Close()
	tb := awsemu.CommandTB("awsemu")
	for _, b := range strings.Split(*buckets, ",") {
		if b = strings.TrimSpace(b); b != "" {
			e.CreateBucket(tb, b)
		}
	}
	env := e.Env()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Printf("export %s=%q\n", k, env[k])
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
