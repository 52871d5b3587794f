package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"docplat/accounts"
	"docplat/blob"
	"docplat/cache"
	"docplat/docs"
	"docplat/events"
	"docplat/hotspot"
	"docplat/idempotency"
	"docplat/lock"
	"docplat/redisembed"
	"docplat/server"
	"docplat/sqlstore"
	"docplat/stats"
	"docplat/txn"
	"docplat/web"
)

// app is docplat wired together: the one place that knows every concrete type.
type app struct {
	cfg      config
	log      *slog.Logger
	db       *sqlstore.DB
	blobs    *blob.Store
	rdb      *redis.Client
	cache    *cache.Cache
	locker   *lock.Locker
	embedded []*redisembed.Server
	accounts *accounts.Service
	docs     *docs.Service
	server   *server.Server

	stats    *stats.Service // nil when the stats service is a separate process
	statsAPI statsAPI
	coord    *txn.Coordinator
	idem     *idempotency.Store
	branches []*txn.ParticipantEngine
	broker   *events.Broker     // the in-process development broker in embedded mode, else nil
	brokers  []string           // the access stream's Kafka brokers
	access   *events.Producer   // publishes to the access topic
	reads    *events.Aggregator // sums this instance's reads into access events

	reg             *prometheus.Registry
	hotSet          *hotspot.HotSet
	edges           []hotspot.Edge      // the nginx hot tiers
	hitSources      []hotspot.HitSource // the same nginx, whose hit counters are drained
	readTokenSecret []byte
}

// openStore opens the database and the blob store, migrating when asked
// (always in embedded mode) and refusing to run on a schema that is behind.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (*sqlstore.DB, *blob.Store, error) {
	db, err := sqlstore.Open(ctx, sqlstore.Config{MySQLDSN: cfg.MySQLDSN, DataDir: cfg.DataDir, Logger: log, MaxOpenConns: int(cfg.DBMaxConns)})
	if err != nil {
		return nil, nil, err
	}
	if db.Embedded() {
		log.Info("embedded mode: SQLite database and blob store in the data directory; set DOCPLAT_MYSQL_DSN to use MariaDB/MySQL",
			"data_dir", cfg.DataDir)
	} else {
		log.Info("database: MariaDB/MySQL", "data_dir", cfg.DataDir)
	}
	if cfg.Migrate || db.Embedded() {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "versions", applied)
		}
	} else if pending, err := db.Pending(ctx); err != nil || pending {
		db.Close()
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("the database schema is behind this binary: run 'docplat migrate' or start with --migrate")
	}
	blobs, err := blob.Open(cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, blobs, nil
}

// redisAddrs returns the L2 and lock node addresses, starting embedded
// Redis-protocol servers when none are configured.
func (a *app) redisAddrs() (string, []string, error) {
	if a.cfg.RedisAddr != "" {
		return a.cfg.RedisAddr, a.cfg.lockAddrs(), nil
	}
	var addrs []string
	for range 4 { // one for L2, three Redlock nodes
		s, err := redisembed.Start()
		if err != nil {
			return "", nil, err
		}
		a.embedded = append(a.embedded, s)
		addrs = append(addrs, s.Addr())
	}
	msg := "embedded Redis: L2 cache and 3 lock nodes run in this process; set DOCPLAT_REDIS_ADDR and DOCPLAT_LOCK_REDIS_ADDRS to share them between instances"
	if !a.db.Embedded() {
		a.log.Warn(msg + " (run only ONE instance against this database, or caches will disagree)")
	} else {
		a.log.Info(msg)
	}
	return addrs[0], addrs[1:], nil
}

func build(ctx context.Context, cfg config, log *slog.Logger) (_ *app, err error) {
	db, blobs, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, db: db, blobs: blobs}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	l2Addr, lockAddrs, err := a.redisAddrs()
	if err != nil {
		return nil, err
	}
	if len(lockAddrs) < 3 {
		log.Warn("fewer than 3 Redlock nodes: a single node failure stops all writes", "nodes", len(lockAddrs))
	}
	admissionLimits, err := cfg.admission()
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	redis.SetLogger(redisLogger{log})
	a.rdb = redis.NewClient(&redis.Options{Addr: l2Addr, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, PoolSize: 128, MaxRetries: 1,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	a.cache, err = cache.New(ctx, cache.Options{L1MB: int(max(cfg.CacheL1MB, 1)), DisableL1: cfg.CacheL1MB == 0, L1TTL: cfg.CacheL1TTL, L2TTL: cfg.CacheL2TTL,
		StaleFor: cfg.CacheStaleFor, Redis: a.rdb, Registerer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	if a.locker, err = lock.New(lockAddrs, lock.Options{Registerer: reg}); err != nil {
		return nil, err
	}
	writeLock := func(ctx context.Context, key string) (func(), error) {
		lease, err := a.locker.Acquire(ctx, key)
		if err != nil {
			return nil, err
		}
		return func() {
			if err := lease.Release(context.Background()); err != nil {
				log.Warn("releasing a write lock", "key", key, "err", err)
			}
		}, nil
	}

	if err := a.wireTransactions(ctx, reg); err != nil {
		return nil, err
	}
	if err := a.wireAccessStream(ctx, reg); err != nil {
		return nil, err
	}
	if err := a.wireHot(); err != nil {
		return nil, err
	}
	a.accounts = accounts.NewService(accounts.WithCache(db.Accounts(), a.cache), accounts.Options{SessionTTL: cfg.SessionTTL})
	repo := docs.WithCache(docs.WithThreePhaseCommit(db.Documents(), a.coord), a.cache, writeLock, cfg.LockTimeout, a.edgePurger())
	repo = docs.WithSearchCache(repo, cfg.SearchCacheTTL, 4096)
	a.docs = docs.NewService(repo, blobs, docs.Options{
		MaxUploadBytes: cfg.MaxUploadBytes, BlobGrace: cfg.BlobGrace, Logger: log,
		ContentCache: a.cache, MaxCachedContent: cfg.CacheMaxContent, Access: a.reads, Instance: cfg.instanceName()})
	a.idem = idempotency.New(db.Gorm(), idempotency.Options{Registerer: reg, Logger: log})
	a.server = server.New(server.Deps{
		Idempotency: a.idem,
		Accounts:    a.accounts,
		Docs:        a.docs,
		Checks:      map[string]server.Check{"database": db.Ping},
		Degraded:    map[string]server.Check{"cache": a.cache.Healthy, "locks": a.locker.Healthy, "invalidations": a.following, "stats": a.statsAPI.Ping},
		Stats:       a.statsAPI,
		Hot:         a.hotLister,
		Internal:    a.internalHandler(),
		UI:          web.Handler(),
		Logger:      log,
		Registry:    reg,
	}, server.Options{SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.trustedProxies(),
		ReadTokenSecret: a.readTokenSecret, ReadTokenTTL: cfg.ReadTokenTTL, Admission: admissionLimits})
	a.reg = reg
	return a, nil
}

func (a *app) following(context.Context) error {
	if !a.cache.Following() {
		return errors.New("not following cache invalidations: L1 bypassed")
	}
	return nil
}

// wireTransactions opens the stats service and builds the three-phase
// commit between it and the document service: the coordinator shares the
// document database, each participant keeps its rows in its own database.
func (a *app) wireTransactions(ctx context.Context, reg prometheus.Registerer) error {
	metrics := txn.NewMetrics(reg)
	participants := map[string]txn.Participant{}
	peers := func(name string) txn.Participant { return participants[name] }
	a.coord = txn.NewCoordinator(txn.CoordinatorOptions{DB: a.db.Gorm(), Participants: participants, Logger: a.log, Metrics: metrics,
		RecoverAfter: a.cfg.TxnRecover,
		// An answered write is readable at once: the coordinator waits for
		// the documents participant, which every instance reads.
		Synchronous: []string{docs.ParticipantDocuments}})
	docsBranch := txn.NewParticipant(txn.ParticipantOptions{Name: docs.ParticipantDocuments, DB: a.db.Gorm(),
		Handler: a.db.DocsParticipant(a.blobs), ForUpdate: !a.db.Embedded(), Coordinator: a.coord, Peers: peers,
		Logger: a.log, Metrics: metrics, ReadyTimeout: a.cfg.TxnTimeout, PrecommitTimeout: a.cfg.TxnTimeout})
	participants[docs.ParticipantDocuments] = docsBranch
	a.branches = []*txn.ParticipantEngine{docsBranch}
	if a.cfg.StatsURL != "" {
		// The stats service is its own process: reached over HTTP.
		a.statsAPI = &stats.Client{Base: a.cfg.StatsURL, Secret: a.cfg.InternalSecret}
		participants[stats.ParticipantName] = (&txn.HTTPClient{Base: a.cfg.StatsURL, Secret: a.cfg.InternalSecret}).Participant(stats.ParticipantName)
		a.log.Info("stats service: remote", "url", a.cfg.StatsURL)
		return nil
	}
	var err error
	a.stats, err = stats.Open(ctx, stats.Config{MySQLDSN: a.cfg.StatsMySQLDSN, DataDir: a.cfg.DataDir, Logger: a.log, MaxOpenConns: int(a.cfg.DBMaxConns)})
	if err != nil {
		return err
	}
	a.statsAPI = a.stats
	statsBranch := txn.NewParticipant(txn.ParticipantOptions{Name: stats.ParticipantName, DB: a.stats.DB(),
		Handler: a.stats.Usage(), ForUpdate: a.stats.MySQL(), Coordinator: a.coord, Peers: peers,
		Logger: a.log, Metrics: metrics, ReadyTimeout: a.cfg.TxnTimeout, PrecommitTimeout: a.cfg.TxnTimeout})
	participants[stats.ParticipantName] = statsBranch
	a.branches = append(a.branches, statsBranch)
	return nil
}

// wireAccessStream connects the producer of access events to the Kafka
// brokers, or starts the development broker in this process when none are
// configured: on SQLite its log is kept in the data directory (one
// instance by construction); on MariaDB, where several instances may share
// the data directory, in memory (each instance then counts its own reads,
// under its own topic id; events not yet counted at shutdown are lost).
func (a *app) wireAccessStream(ctx context.Context, reg prometheus.Registerer) error {
	a.brokers = a.cfg.kafkaBrokers()
	if len(a.brokers) == 0 {
		bc := events.BrokerConfig{Topic: a.cfg.KafkaTopic, Partitions: int(a.cfg.KafkaPartitions)}
		if a.db.Embedded() {
			bc.DataDir = filepath.Join(a.cfg.DataDir, "kafka")
		}
		b, err := events.StartBroker(ctx, bc)
		if err != nil {
			return err
		}
		a.broker, a.brokers = b, b.Addrs()
		msg := "embedded Kafka: the access stream runs on an in-process development broker (kfake); set DOCPLAT_KAFKA_BROKERS to use a Kafka cluster"
		if !a.db.Embedded() {
			a.log.Warn(msg+" (in memory: each instance counts only its own reads, and reads not yet counted at shutdown are lost)", "addr", b.Addrs()[0])
		} else {
			a.log.Info(msg, "addr", b.Addrs()[0])
		}
	} else {
		a.log.Info("access stream: Kafka", "brokers", a.brokers, "topic", a.cfg.KafkaTopic)
	}
	var err error
	a.access, err = events.NewProducer(events.ProducerConfig{Brokers: a.brokers, Topic: a.cfg.KafkaTopic, Registerer: reg, Logger: a.log})
	if err != nil {
		return err
	}
	a.reads, err = events.NewAggregator(a.access, events.AggregatorConfig{Window: a.cfg.AccessWindow, BurstCount: a.cfg.accessBurstCount(), BurstInterval: a.cfg.AccessBurstEvery, Instance: a.cfg.instanceName(), Registerer: reg})
	return err
}

// streamConfig is how the stats counters read the access topic.
func (a *app) streamConfig() stats.StreamConfig {
	return stats.StreamConfig{Brokers: a.brokers, Topic: a.cfg.KafkaTopic, SessionTimeout: a.cfg.KafkaSessionTimeout,
		FlushInterval: a.cfg.StatsFlushInterval, Registerer: a.reg, Logger: a.log}
}

// statsAPI is the stats service as this process uses it: reads, counting
// sink, health (the in-process Service or a Client of a stats process).
type statsAPI interface {
	server.Stats
	Ping(ctx context.Context) error
}

// internalHandler serves the transaction transport to other docplat
// processes when a shared secret is configured.
func (a *app) internalHandler() http.Handler {
	if a.cfg.InternalSecret == "" {
		return nil
	}
	ps := map[string]txn.Participant{}
	for _, b := range a.branches {
		ps[b.Name()] = b
	}
	return txn.HTTPHandler(ps, a.coord, a.cfg.InternalSecret)
}

// runBackground runs the jobs beside request serving until ctx ends: access
// counters and garbage collection, token purging, cache invalidations,
// transaction recovery and timeouts, and the stats counters' consumer.
func (a *app) runBackground(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() { a.docs.Run(ctx, a.cfg.CountsFlush, a.cfg.GCInterval) })
	wg.Go(func() { a.reads.Run(ctx) }) // publishes its last window when ctx ends, before Close flushes the producer
	wg.Go(func() { a.purgeTokens(ctx) })
	wg.Go(func() { a.cache.Run(ctx) })
	wg.Go(func() { a.coord.Run(ctx, 0) })
	wg.Go(func() { a.idem.Run(ctx, time.Minute) })
	for _, b := range a.branches {
		wg.Go(func() { b.Run(ctx, 0) })
	}
	for _, job := range a.runHot(ctx, a.reg) {
		wg.Go(job)
	}
	if a.stats != nil { // a separate stats process consumes the topic itself
		wg.Go(func() { a.stats.ConsumeStream(ctx, a.streamConfig()) })
	}
	return &wg
}

func (a *app) Close() error {
	var errs []error
	if a.reads != nil {
		// Reads and nginx hits handed over after the aggregator's Run ended
		// (requests finishing, a drain in flight at the stop).
		a.reads.Flush()
	}
	if a.access != nil {
		a.access.Close(2 * time.Second)
	}
	if a.broker != nil {
		a.broker.Close()
	}
	if a.stats != nil {
		errs = append(errs, a.stats.Close())
	}
	if a.cache != nil {
		a.cache.Close()
	}
	if a.locker != nil {
		errs = append(errs, a.locker.Close())
	}
	if a.rdb != nil {
		errs = append(errs, a.rdb.Close())
	}
	for _, s := range a.embedded {
		s.Close()
	}
	if a.db != nil {
		errs = append(errs, a.db.Close())
	}
	return errors.Join(errs...)
}
