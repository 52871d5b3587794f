package main

import (
	"context"
	"errors"
	"fmt"

	"docplat/internal/envflag"
	"docplat/internal/logflag"
	"docplat/nginx"
)

// nginxConfig is what `docplat nginx` runs: the hot tier's nginx.Config
// (its secrets and entry limit are serve's too) and the prefix it runs in.
type nginxConfig struct {
	Log    logflag.Options
	Nginx  nginx.Config
	Prefix string
}

// nginxFlags is the nginx command's flag set.
func nginxFlags(env envSource) (*envflag.Set, *nginxConfig) {
	var c nginxConfig
	b := newFlags("nginx", env)
	c.Log.Bind(b)
	b.String(&c.Nginx.Secret, "internal-secret", "", "shared secret of nginx's admin endpoints, the apps' --internal-secret (16+ characters)")
	b.String(&c.Nginx.TokenSecret, "read-token-secret", "", "secret of the per-document read tokens nginx checks, the apps' --read-token-secret (16+ characters)")
	b.Int64(&c.Nginx.MaxEntryBytes, "hot-max-bytes", 1<<20, "largest content the nginx hot tier holds; larger hot documents stay on the app")
	fs := b.FlagSet
	fs.StringVar(&c.Prefix, "prefix", "", "directory nginx runs in (conf/, logs/, lua/, static/ are written there)")
	fs.StringVar(&c.Nginx.Listen, "listen", "127.0.0.1:8080", "public listener")
	fs.StringVar(&c.Nginx.AdminListen, "admin-listen", "127.0.0.1:8081", "admin listener (loopback only)")
	fs.Var(&envflag.ListValue{P: &c.Nginx.Upstreams}, "upstreams", "comma-separated app instances, ip:port")
	fs.IntVar(&c.Nginx.Workers, "workers", 0, "worker processes (0: one per core)")
	fs.IntVar(&c.Nginx.WorkerConnections, "worker-connections", 4096, "connections per worker, clients and upstreams together (10,000 clients on 2 workers need about 12,000)")
	return b, &c
}

// nginxCmd runs `docplat nginx`: renders the hot tier's nginx configuration
// into its own prefix (never the system's) and runs nginx in the foreground
// until interrupted, so that scripts supervise it by one PID.
func nginxCmd(ctx context.Context, args []string, env envSource) error {
	b, cfg := nginxFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	nc := cfg.Nginx
	errs := []error{cfg.Log.Validate()}
	if nc.WorkerConnections < 64 || nc.WorkerConnections > 1<<20 {
		errs = append(errs, fmt.Errorf("worker-connections must be 64..1048576, got %d", nc.WorkerConnections))
	}
	if cfg.Prefix == "" {
		errs = append(errs, errors.New("prefix is required"))
	}
	if len(nc.Secret) < 16 || len(nc.TokenSecret) < 16 {
		errs = append(errs, errors.New("internal-secret and read-token-secret (16+ characters each) are required: nginx checks both"))
	}
	errs = append(errs, nc.Validate(), nginx.Available())
	if err := b.Check(errs...); err != nil {
		return err
	}
	log := cfg.Log.Logger().With("service", "nginx")
	if err := nginx.Render(nc, cfg.Prefix); err != nil {
		return err
	}
	p, err := nginx.Start(ctx, cfg.Prefix)
	if err != nil {
		return err
	}
	log.Info("nginx running", "pid", p.Pid(), "listen", nc.Listen, "admin", nc.AdminListen, "upstreams", nc.Upstreams, "prefix", cfg.Prefix)
	<-ctx.Done()
	log.Info("stopping nginx")
	return p.Stop()
}
