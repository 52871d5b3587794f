package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"docplat/hotspot"
	"docplat/internal/envflag"
	"docplat/internal/logflag"
)

// hotspotConfig is what `docplat hotspot` runs.
type hotspotConfig struct {
	Log       logflag.Options
	Addr      string
	RedisAddr string
	Detector  hotspot.ConsumerOptions
}

// hotspotFlags is the hotspot command's flag set.
func hotspotFlags(env envSource) (*envflag.Set, *hotspotConfig) {
	var c hotspotConfig
	b := newFlags("hotspot", env)
	c.Log.Bind(b)
	b.String(&c.Addr, "hotspot-addr", "127.0.0.1:9300", "listen address of its /metrics and /healthz")
	b.String(&c.RedisAddr, "redis-addr", "", "the Redis holding the shared hot set, host:port (required)")
	b.List(&c.Detector.Brokers, "kafka-brokers", "", "", "comma-separated Kafka brokers of the access stream, host:port (required)")
	b.String(&c.Detector.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	b.Duration(&c.Detector.SessionTimeout, "kafka-session-timeout", 10*time.Second, "a consumer silent this long loses its partitions to the rest of its group (500ms-5m, within the brokers' group.min/max.session.timeout.ms)")
	c.Detector.Runner.Bind(b)
	return b, &c
}

func (c *hotspotConfig) validate(b *envflag.Set) error {
	errs := []error{c.Log.Validate()}
	if err := b.Options(&c.Detector.Runner); err != nil {
		errs = append(errs, fmt.Errorf("hot-document detector: %w", err))
	}
	errs = append(errs, b.Options(&c.Detector))
	if c.RedisAddr == "" {
		errs = append(errs, errors.New("redis-addr is required: the hot set lives in the shared Redis"))
	}
	if len(c.Detector.Brokers) == 0 {
		errs = append(errs, errors.New("kafka-brokers is required: the detector consumes the access topic"))
	}
	return b.Check(errs...)
}

// hotspotCmd runs `docplat hotspot`: one hot-document detector, a member of
// the detector consumer group on the access topic. Run two or more: killing
// one hands its partitions to the others, which seed from the shared hot
// set so that the hot documents stay hot.
func hotspotCmd(ctx context.Context, args []string, env envSource) error {
	b, cfg := hotspotFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(b); err != nil {
		return err
	}
	log := cfg.Log.Logger().With("service", "hotspot")
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer rdb.Close()
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Addr: cfg.Addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "addr", cfg.Addr, "err", err)
		}
	}()
	defer srv.Close()
	log.Info("docplat hotspot starting", "metrics", cfg.Addr, "brokers", cfg.Detector.Brokers, "redis", cfg.RedisAddr)
	return hotspot.RunDetector(ctx, cfg.Detector, hotspot.NewHotSet(rdb, "docplat:hot"), reg, log)
}
