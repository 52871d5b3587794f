package nginx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"docplat/internal/envflag"
)

// ProcessConfig is the hot tier run by `docplat nginx`: the configuration
// Render writes (its secrets and entry limit are serve's too) and the
// prefix nginx runs in, never the system's.
type ProcessConfig struct {
	Config Config
	Prefix string
}

// Bind declares the hot tier's flags onto c; those only this command has
// take no variable.
func (c *ProcessConfig) Bind(b *envflag.Set) {
	b.String(&c.Config.Secret, "internal-secret", "", "the apps' --internal-secret (16+ characters), which signs every request to nginx's admin endpoints")
	b.String(&c.Config.TokenSecret, "read-token-secret", "", "secret of the per-document read tokens nginx checks, the apps' --read-token-secret (16+ characters)")
	b.Duration(&c.Config.ReadTokenTTL, "read-token-ttl", 5*time.Minute, "life of the apps' read tokens, their --read-token-ttl: after a start nginx leaves tokens that may predate it to the apps")
	b.Int64(&c.Config.MaxEntryBytes, "hot-max-bytes", 1<<20, "largest content the nginx hot tier holds; larger hot documents stay on the app")
	fs := b.FlagSet
	fs.StringVar(&c.Prefix, "prefix", "", "directory nginx runs in (conf/, logs/, lua/, static/ are written there)")
	fs.StringVar(&c.Config.Listen, "listen", "127.0.0.1:8080", "public listener")
	fs.StringVar(&c.Config.AdminListen, "admin-listen", "127.0.0.1:8081", "admin listener, ip:port of one interface: loopback, or the private address the apps reach this edge by (requests signed with --internal-secret)")
	fs.Var(&envflag.ListValue{P: &c.Config.Upstreams}, "upstreams", "comma-separated app instances, ip:port")
	fs.IntVar(&c.Config.Workers, "workers", 0, "worker processes (0: one per core)")
	fs.IntVar(&c.Config.WorkerConnections, "worker-connections", 4096, "connections per worker, clients and upstreams together (10,000 clients on 2 workers need about 12,000)")
}

// Validate reports every problem at once, the configuration's own
// included, and whether nginx with its Lua module is installed.
func (c *ProcessConfig) Validate() error {
	var errs []error
	if c.Config.WorkerConnections < 64 || c.Config.WorkerConnections > 1<<20 {
		errs = append(errs, fmt.Errorf("worker-connections must be 64..1048576, got %d", c.Config.WorkerConnections))
	}
	if c.Prefix == "" {
		errs = append(errs, errors.New("prefix is required"))
	}
	if len(c.Config.Secret) < 16 || len(c.Config.TokenSecret) < 16 {
		errs = append(errs, errors.New("internal-secret and read-token-secret (16+ characters each) are required: nginx checks both"))
	}
	return errors.Join(append(errs, c.Config.Validate(), Available())...)
}

// RunProcess renders the configuration into cfg.Prefix and runs nginx in
// the foreground until ctx ends, so that scripts supervise it by one PID.
// Ending ctx is how it is stopped, so that is no error, even while nginx
// is still starting (Start has stopped it then).
func RunProcess(ctx context.Context, cfg ProcessConfig, log *slog.Logger) error {
	if err := Render(cfg.Config, cfg.Prefix); err != nil {
		return err
	}
	p, err := Start(ctx, cfg.Prefix)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			log.Info("nginx stopped while starting")
			return nil
		}
		return err
	}
	log.Info("nginx running", "pid", p.Pid(), "listen", cfg.Config.Listen, "admin", cfg.Config.AdminListen, "upstreams", cfg.Config.Upstreams, "prefix", cfg.Prefix)
	<-ctx.Done()
	log.Info("stopping nginx")
	return p.Stop()
}
