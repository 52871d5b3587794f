// Command docplat is the document platform server and its tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"docplat/events"
	"docplat/hotspot"
	"docplat/internal/buildinfo"
	"docplat/internal/envflag"
	"docplat/nginx"
	"docplat/stats"
)

// command is one docplat subcommand.
type command struct {
	name  string
	usage string // one line of `docplat help`
	// summary heads the command's section of the configuration reference;
	// flags is its flag set there (nil: a command without configuration).
	summary string
	flags   func(envSource) *envflag.Set
	run     func(ctx context.Context, args []string, env envSource) error
}

// commands are docplat's subcommands, in the order of the help and the
// configuration reference.
var commands = []command{
	{"serve", "run the HTTP server (the default)", "The document service: HTTP API, UI, caches, access stream, hot tier.",
		func(env envSource) *envflag.Set { b, _ := serveFlags(env); return b }, serveCmd},
	{"worker", "run job workers (text extraction) against --kafka-brokers; takes serve's configuration", "Job workers (text extraction) as a process of their own, members of the workers' consumer group; the same configuration as serve. --addr serves only its /metrics and /healthz.",
		func(env envSource) *envflag.Set { b, _ := serveFlags(env); return b }, workerCmd},
	{"migrate", "apply pending database migrations and exit", "Apply pending database migrations and exit.",
		func(env envSource) *envflag.Set { b, _ := storeFlags("migrate", env); return b }, migrateCmd},
	{"user create", "add a user (docplat user create --username NAME --role ROLE ...)", "Add a user (opens the database only).",
		func(env envSource) *envflag.Set { b, _, _, _ := userFlags(env); return b }, userCmd},
	{"reconcile", "recompute department usage from the documents (after a partition)", "Recompute department usage from the documents, after a heuristic transaction outcome.",
		func(env envSource) *envflag.Set { b, _ := reconcileFlags(env); return b }, reconcileCmd},
	{"gc", "collect unreferenced blobs and staging leftovers once", "Collect unreferenced blobs and staging leftovers once.",
		func(env envSource) *envflag.Set { b, _ := gcFlags(env); return b }, gcCmd},
	{"stats", "run the stats service as its own process (see --stats-url)", "The stats service as its own process.",
		flagsOf[stats.ProcessConfig]("stats"), runProcess("stats", (*stats.ProcessConfig).Validate, stats.RunProcess)},
	{"kafka", "run a development Kafka broker with the access topic (--kafka-addr)", "A development Kafka broker with the access topic.",
		flagsOf[events.BrokerProcess]("kafka"), runProcess("kafka", (*events.BrokerProcess).Validate, events.RunBroker)},
	{"hotspot", "run a hot-document detector (consumer group on the access topic; needs --redis-addr, --kafka-brokers)", "A hot-document detector (a member of the detector consumer group).",
		flagsOf[hotspot.ProcessConfig]("hotspot"), runProcess("hotspot", (*hotspot.ProcessConfig).Validate, hotspot.RunProcess)},
	{"nginx", "render the nginx hot tier's config into --prefix and run nginx in the foreground", "Render the nginx hot tier's configuration into --prefix and run nginx in the foreground.",
		flagsOf[nginx.ProcessConfig]("nginx"), runProcess("nginx", func(c *nginx.ProcessConfig, _ *envflag.Set) error { return c.Validate() }, nginx.RunProcess)},
	{"version", "print the version", "", nil, func(context.Context, []string, envSource) error { fmt.Println(buildinfo.Version()); return nil }},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], osEnv); err != nil {
		fmt.Fprintln(os.Stderr, "docplat:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, env envSource) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		args = append([]string{"serve"}, args...)
	}
	for _, c := range commands {
		words := strings.Fields(c.name) // "user create", "help config": two words
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c.run(ctx, args[len(words):], env)
		}
	}
	switch args[0] {
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] == "config" {
			return writeConfigDoc(os.Stdout)
		}
		fmt.Print(usage())
		return nil
	case "user":
		return errors.New("usage: docplat user create --username NAME [--password PW|-] [--role admin|dept_admin|member] [--department-id ID] [--display-name NAME]")
	}
	fmt.Fprint(os.Stderr, usage())
	return fmt.Errorf("unknown command %q", args[0])
}

// usage is `docplat help`.
func usage() string {
	var b strings.Builder
	b.WriteString("docplat: a high-concurrency document platform\n\nusage: docplat <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.usage)
	}
	fmt.Fprintf(&b, "  %-12s %s\n", "help config", "print the configuration reference of every command (Markdown)")
	b.WriteString(`
Every flag of a command can also be set by its DOCPLAT_* environment
variable; run 'docplat <command> -h' for the list. The load and benchmark
tools are a command of their own: docplat-bench (go run ./cmd/docplat-bench).
`)
	return b.String()
}
