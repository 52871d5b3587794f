// Command docplat is the document platform server and its tools.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"docplat/internal/buildinfo"
)

const usage = `docplat: a high-concurrency document platform

usage: docplat <command> [flags]

commands:
  serve     run the HTTP server (the default)
  migrate   apply pending database migrations and exit
  user      manage users (docplat user create --username NAME --role ROLE ...)
  stats     run the stats service as its own process (see --stats-url)
  kafka     run a development Kafka broker with the access topic (--kafka-addr)
  nginx     render the nginx hot tier's config into --prefix and run nginx in the foreground
  hotspot   run a hot-document detector (consumer group on the access topic; needs --redis-addr, --kafka-brokers)
  reconcile recompute department usage from the documents (after a partition)
  gc        collect unreferenced blobs and staging leftovers once
  version   print the version
  help config  print the configuration reference of every command (Markdown)

Every flag of a command can also be set by its DOCPLAT_* environment
variable; run 'docplat <command> -h' for the list. The load and benchmark
tools are a command of their own: docplat-bench (go run ./cmd/docplat-bench).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], osEnv); err != nil {
		fmt.Fprintln(os.Stderr, "docplat:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, env envSource) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCmd(ctx, args, env)
	case "migrate":
		return migrateCmd(ctx, args, env)
	case "user":
		return userCmd(ctx, args, env)
	case "stats":
		return statsCmd(ctx, args, env)
	case "kafka":
		return kafkaCmd(ctx, args, env)
	case "hotspot":
		return hotspotCmd(ctx, args, env)
	case "nginx":
		return nginxCmd(ctx, args, env)
	case "reconcile":
		return reconcileCmd(ctx, args, env)
	case "gc":
		return gcCmd(ctx, args, env)
	case "version":
		fmt.Println(buildinfo.Version())
		return nil
	case "help", "-h", "--help":
		if len(args) > 0 && args[0] == "config" {
			return writeConfigDoc(os.Stdout)
		}
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
