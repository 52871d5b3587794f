package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"docplat/internal/buildinfo"
	"docplat/internal/debugserver"
	"docplat/internal/envflag"
	"docplat/internal/httpserve"
)

// serveFlags is serve's flag set, bound to the configuration it fills.
func serveFlags(env envSource) (*envflag.Set, *config) {
	var c config
	b := newFlags("serve", env)
	c.bind(b)
	return b, &c
}

// parseServe is serve's configuration from args and the environment.
func parseServe(args []string, env envSource) (config, error) {
	b, c := serveFlags(env)
	if err := b.Parse(args); err != nil {
		return *c, err
	}
	return *c, c.validate(b)
}

func serveCmd(ctx context.Context, args []string, env envSource) error {
	cfg, err := parseServe(args, env)
	if err != nil {
		return err
	}
	log := cfg.Log.Logger()
	log.Info("docplat starting", "version", buildinfo.Version(), "addr", cfg.Addr)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.accounts.CheckUsernames(ctx); err != nil {
		return err
	}
	created, generated, err := a.accounts.EnsureAdmin(ctx, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("bootstrap admin user: %w", err)
	}
	if created && generated != "" {
		// Printed once, on stderr, outside the JSON log, so that it is seen and not shipped to log storage.
		fmt.Fprintf(os.Stderr, "\n  docplat created the user 'admin' with password: %s\n  (shown once; set DOCPLAT_ADMIN_PASSWORD to choose it)\n\n", generated)
		log.Info("admin user created with a generated password (printed on stderr)")
	} else if created {
		log.Info("admin user created with DOCPLAT_ADMIN_PASSWORD")
	}

	if cfg.DebugAddr != "" {
		stop, err := debugserver.Start(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return a.serve(ctx, ln)
}

// serve runs the HTTP server and the background jobs until ctx ends, then
// drains in-flight requests.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	a.log.Info("listening", "addr", ln.Addr().String())
	err := httpserve.Run(ctx, a.server.HTTPServer(ln.Addr().String()), ln, a.cfg.ShutdownTimeout, a.runBackground,
		func() { a.log.Info("shutting down", "grace", a.cfg.ShutdownTimeout.String()) })
	a.log.Info("stopped")
	return err
}
