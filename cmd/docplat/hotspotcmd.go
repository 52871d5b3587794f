package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"docplat/hotspot"
)

// hotspotCmd runs `docplat hotspot`: one hot-document detector, a member of
// the detector consumer group on the access topic. Run two or more: killing
// one hands its partitions to the others, which seed from the shared hot
// set so that the hot documents stay hot.
func hotspotCmd(ctx context.Context, args []string, env envSource) error {
	var cfg config
	fs := flag.NewFlagSet("hotspot", flag.ContinueOnError)
	cfg.register(fs, env)
	if err := fs.Parse(args); err != nil {
		return err
	}
	errs := []error{cfg.validate()}
	if cfg.RedisAddr == "" {
		errs = append(errs, errors.New("redis-addr is required: the hot set lives in the shared Redis"))
	}
	if len(cfg.kafkaBrokers()) == 0 {
		errs = append(errs, errors.New("kafka-brokers is required: the detector consumes the access topic"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := cfg.logger().With("service", "hotspot")
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer rdb.Close()
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Addr: cfg.HotspotAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "addr", cfg.HotspotAddr, "err", err)
		}
	}()
	defer srv.Close()
	log.Info("docplat hotspot starting", "metrics", cfg.HotspotAddr, "brokers", cfg.kafkaBrokers(), "redis", cfg.RedisAddr)
	return runDetector(ctx, cfg, cfg.kafkaBrokers(), hotspot.NewHotSet(rdb, "docplat:hot"), reg, log)
}
