package hotspot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"docplat/internal/envflag"
)

// ProcessConfig is one hot-document detector run as its own process
// (`docplat hotspot`): the access stream it consumes, the shared Redis
// holding the hot set, and the listener of its /metrics and /healthz.
type ProcessConfig struct {
	Addr              string
	RedisAddr         string
	RedisClusterAddrs []string
	Detector          ConsumerOptions
}

// Bind declares the detector process's flags onto c.
func (c *ProcessConfig) Bind(b *envflag.Set) {
	b.String(&c.Addr, "hotspot-addr", "127.0.0.1:9300", "listen address of its /metrics and /healthz")
	b.String(&c.RedisAddr, "redis-addr", "", "the Redis holding the shared hot set, host:port (this or --redis-cluster-addrs is required)")
	b.List(&c.RedisClusterAddrs, "redis-cluster-addrs", "", "", "or seed nodes (host:port, comma-separated) of the Redis Cluster holding it")
	b.List(&c.Detector.Brokers, "kafka-brokers", "", "", "comma-separated Kafka brokers of the access stream, host:port (required)")
	b.String(&c.Detector.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	b.Duration(&c.Detector.SessionTimeout, "kafka-session-timeout", 10*time.Second, "a consumer silent this long loses its partitions to the rest of its group (500ms-5m, within the brokers' group.min/max.session.timeout.ms)")
	c.Detector.Runner.Bind(b)
}

// Validate reports every problem at once, named by the flags of b (the
// set c was bound to).
func (c *ProcessConfig) Validate(b *envflag.Set) error {
	var errs []error
	if err := b.Options(&c.Detector.Runner); err != nil {
		errs = append(errs, fmt.Errorf("hot-document detector: %w", err))
	}
	errs = append(errs, b.Options(&c.Detector))
	if (c.RedisAddr == "") == (len(c.RedisClusterAddrs) == 0) {
		errs = append(errs, errors.New("one of redis-addr and redis-cluster-addrs is required: the hot set lives in the shared Redis"))
	}
	if len(c.Detector.Brokers) == 0 {
		errs = append(errs, errors.New("kafka-brokers is required: the detector consumes the access topic"))
	}
	return errors.Join(errs...)
}

// RunProcess runs one detector (RunDetector) on the shared hot set in
// cfg.RedisAddr, with its metrics and health on cfg.Addr, until ctx ends.
// Run two or more: killing one hands its partitions to the others, which
// seed from the shared hot set so that the hot documents stay hot.
func RunProcess(ctx context.Context, cfg ProcessConfig, log *slog.Logger) error {
	var rdb redis.UniversalClient
	if len(cfg.RedisClusterAddrs) > 0 {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.RedisClusterAddrs, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	} else {
		rdb = redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	}
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
	log.Info("docplat hotspot starting", "metrics", cfg.Addr, "brokers", cfg.Detector.Brokers, "redis", cfg.RedisAddr, "redis_cluster", cfg.RedisClusterAddrs)
	return RunDetector(ctx, cfg.Detector, NewHotSet(rdb, "docplat:hot"), reg, log)
}
