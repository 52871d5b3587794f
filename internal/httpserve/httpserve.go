// Package httpserve runs an HTTP server with the background jobs of its
// process until the process is told to stop, then drains it: the one
// graceful shutdown of docplat's HTTP services (serve, stats).
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Run serves srv on ln, with the jobs run starts beside it, until ctx
// ends; then in-flight requests have grace to finish (shuttingDown is told
// first) before the jobs are stopped and waited for. The jobs' context
// outlives ctx so that they keep working while requests drain.
func Run(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration,
	run func(context.Context) *sync.WaitGroup, shuttingDown func()) error {
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	wg := run(bg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		shuttingDown()
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopBG()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
