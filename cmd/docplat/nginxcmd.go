package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"docplat/nginx"
)

// nginxCmd runs `docplat nginx`: renders the hot tier's nginx configuration
// into its own prefix (never the system's) and runs nginx in the foreground
// until interrupted, so that scripts supervise it by one PID.
func nginxCmd(ctx context.Context, args []string, env envSource) error {
	var cfg config
	fs := flag.NewFlagSet("nginx", flag.ContinueOnError)
	cfg.register(fs, env)
	prefix := fs.String("prefix", "", "directory nginx runs in (conf/, logs/, lua/, static/ are written there)")
	listen := fs.String("listen", "127.0.0.1:8080", "public listener")
	admin := fs.String("admin-listen", "127.0.0.1:8081", "admin listener (loopback only)")
	upstreams := fs.String("upstreams", "", "comma-separated app instances, ip:port")
	workers := fs.Int("workers", 0, "worker processes (0: one per core)")
	workerConns := fs.Int("worker-connections", 4096, "connections per worker, clients and upstreams together (10,000 clients on 2 workers need about 12,000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	errs := []error{cfg.validate()}
	if *workerConns < 64 || *workerConns > 1<<20 {
		errs = append(errs, fmt.Errorf("worker-connections must be 64..1048576, got %d", *workerConns))
	}
	if *prefix == "" {
		errs = append(errs, errors.New("prefix is required"))
	}
	if len(cfg.InternalSecret) < 16 || len(cfg.ReadTokenSecret) < 16 {
		errs = append(errs, errors.New("internal-secret and read-token-secret (16+ characters each) are required: nginx checks both"))
	}
	nc := nginx.Config{Listen: *listen, AdminListen: *admin, Secret: cfg.InternalSecret, TokenSecret: cfg.ReadTokenSecret,
		MaxEntryBytes: cfg.HotMaxBytes, Workers: *workers, WorkerConnections: *workerConns}
	for _, u := range strings.Split(*upstreams, ",") {
		if u = strings.TrimSpace(u); u != "" {
			nc.Upstreams = append(nc.Upstreams, u)
		}
	}
	errs = append(errs, nc.Validate(), nginx.Available())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := cfg.logger().With("service", "nginx")
	if err := nginx.Render(nc, *prefix); err != nil {
		return err
	}
	p, err := nginx.Start(ctx, *prefix)
	if err != nil {
		return err
	}
	log.Info("nginx running", "pid", p.Pid(), "listen", *listen, "admin", *admin, "upstreams", nc.Upstreams, "prefix", *prefix)
	<-ctx.Done()
	log.Info("stopping nginx")
	return p.Stop()
}
