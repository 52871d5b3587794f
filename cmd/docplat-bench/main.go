// Command docplat-bench is docplat's load and benchmark tooling: the
// benchmark suite, the load generator and the JMeter results summary. It
// speaks to docplat over HTTP only, so it lives apart from the server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"docplat/internal/buildinfo"
)

const usage = `docplat-bench: docplat's load and benchmark tools

usage: docplat-bench <command> [flags]

commands:
  suite     run the benchmark suite on a local cluster of its own (docplat-bench suite -h)
  loadgen   load-test a server with docplat's scenarios (docplat-bench loadgen -h)
  jtl       summarize a JMeter results file (docplat-bench jtl summary [-json out.json] FILE.jtl)
  version   print the version

The tools take flags only (no DOCPLAT_* variables).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "docplat-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("no command given")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "suite":
		return suiteCmd(ctx, args)
	case "loadgen":
		return loadgenCmd(ctx, args)
	case "jtl":
		return jtlCmd(args)
	case "version":
		fmt.Println(buildinfo.Version())
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
