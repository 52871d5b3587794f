// Package debugserver serves Go's profiler (net/http/pprof) on a listener
// of its own, never the public port: it accepts only loopback addresses,
// because profiles show request data and cost CPU. It serves nothing else.
package debugserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// handler serves Go's profiler (net/http/pprof) on the --debug-addr
// listener. Profiles show request data and cost CPU, so they are never
// routed on the public port; CheckAddr keeps the listener on loopback.
func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// CheckAddr accepts an empty address (no listener) or a loopback
// ip:port.
func CheckAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("debug-addr %q must be a loopback ip:port such as 127.0.0.1:6060 (the profiler must not leave the host)", addr)
	}
	return nil
}

// Start listens on addr and serves the profiler until stop is called.
func Start(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener: %w", err)
	}
	// No WriteTimeout: /debug/pprof/profile and /trace stream for ?seconds=.
	srv := &http.Server{Handler: handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug listener", "addr", addr, "err", err)
		}
	}()
	log.Info("profiler listening", "addr", ln.Addr().String(), "path", "/debug/pprof/")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
