package main

import (
	"context"
	"errors"
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

// openDB opens the document database, migrating when asked.
func openDB(ctx context.Context, o storeOptions, log *slog.Logger) (*sqlstore.DB, error) {
	cfg := o.DB
	cfg.Logger = log
	return sqlstore.OpenReady(ctx, cfg, o.Migrate)
}

// openStore opens the document database and the blob store beside it.
func openStore(ctx context.Context, o storeOptions, log *slog.Logger) (*sqlstore.DB, *blob.Store, error) {
	db, err := openDB(ctx, o, log)
	if err != nil {
		return nil, nil, err
	}
	blobs, err := blob.Open(o.DB.DataDir)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, blobs, nil
}

// build wires the whole document service, stage by stage: the stores (the
// document database and blob store, the stats service and the three-phase
// commit between them), the cache and the lock, the access stream, the
// hot tier, and the services over them. The other commands open only the
// stores they use (openDB, openStore).
func build(ctx context.Context, cfg config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	stages := []func(context.Context) error{
		a.openStores,
		a.openCacheAndLock,
		func(ctx context.Context) error { return a.wireAccessStream(ctx, a.reg) },
		func(context.Context) error { return a.wireHot() },
	}
	for _, stage := range stages {
		if err := stage(ctx); err != nil {
			return nil, err
		}
	}
	a.wireServices()
	return a, nil
}

// openStores is the first stage: the document database and blob store,
// the stats service and the three-phase commit between them.
func (a *app) openStores(ctx context.Context) error {
	var err error
	if a.db, a.blobs, err = openStore(ctx, a.cfg.Store, a.log); err != nil {
		return err
	}
	return a.wireTransactions(ctx, a.reg)
}

// openCacheAndLock connects the two-level cache to its Redis and the write
// lock to its Redlock nodes, starting embedded Redis servers when none are
// configured.
func (a *app) openCacheAndLock(ctx context.Context) error {
	l2Addr, lockAddrs, err := a.redisAddrs()
	if err != nil {
		return err
	}
	if len(lockAddrs) < 3 {
		a.log.Warn("fewer than 3 Redlock nodes: a single node failure stops all writes", "nodes", len(lockAddrs))
	}
	redis.SetLogger(redisLogger{a.log})
	a.rdb = redis.NewClient(&redis.Options{Addr: l2Addr, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, PoolSize: 128, MaxRetries: 1,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	co := a.cfg.Cache.Flagged()
	co.Redis, co.Registerer, co.Logger = a.rdb, a.reg, a.log
	if a.cache, err = cache.New(ctx, co); err != nil {
		return err
	}
	a.locker, err = lock.New(lockAddrs, lock.Options{Registerer: a.reg})
	return err
}

// redisAddrs returns the L2 and lock node addresses, starting embedded
// Redis-protocol servers when none are configured.
func (a *app) redisAddrs() (string, []string, error) {
	if a.cfg.RedisAddr != "" {
		return a.cfg.RedisAddr, a.cfg.LockRedisAddrs, nil
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

// writeLock takes a document's write lock for the repository.
func (a *app) writeLock(ctx context.Context, key string) (func(), error) {
	lease, err := a.locker.Acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := lease.Release(context.Background()); err != nil {
			a.log.Warn("releasing a write lock", "key", key, "err", err)
		}
	}, nil
}

// wireServices builds the domain services and the HTTP server over the
// stages before.
func (a *app) wireServices() {
	cfg := a.cfg
	a.accounts = accounts.NewService(accounts.WithCache(a.db.Accounts(), a.cache), cfg.Accounts)
	repo := docs.WithCache(docs.WithThreePhaseCommit(a.db.Documents(), a.coord), a.cache, a.writeLock, cfg.LockTimeout, a.edgePurger())
	repo = docs.WithSearchCache(repo, cfg.SearchCacheTTL, 4096)
	do := cfg.Docs
	do.Logger, do.ContentCache, do.Access, do.Instance = a.log, a.cache, a.reads, cfg.instanceName()
	a.docs = docs.NewService(repo, a.blobs, do)
	a.idem = idempotency.New(a.db.Gorm(), idempotency.Options{Registerer: a.reg, Logger: a.log})
	so := cfg.Server
	so.ReadTokenSecret = a.readTokenSecret
	a.server = server.New(server.Deps{
		Idempotency: a.idem,
		Accounts:    a.accounts,
		Docs:        a.docs,
		Checks:      map[string]server.Check{"database": a.db.Ping},
		Degraded:    map[string]server.Check{"cache": a.cache.Healthy, "locks": a.locker.Healthy, "invalidations": a.following, "stats": a.statsAPI.Ping},
		Stats:       a.statsAPI,
		Hot:         server.ListHotSet(a.hotSet),
		Internal:    a.internalHandler(),
		UI:          web.Handler(),
		Logger:      a.log,
		Registry:    a.reg,
	}, so)
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
	sc := a.cfg.StatsDB // in the document database's directory, with its pool size
	sc.DataDir, sc.MaxOpenConns, sc.Logger = a.cfg.Store.DB.DataDir, a.cfg.Store.DB.MaxOpenConns, a.log
	a.stats, err = stats.Open(ctx, sc)
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
	a.brokers = a.cfg.Access.Brokers
	if len(a.brokers) == 0 {
		bc := a.cfg.Broker
		bc.Topic = a.cfg.Access.Topic
		if a.db.Embedded() {
			bc.DataDir = filepath.Join(a.cfg.Store.DB.DataDir, "kafka")
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
		a.log.Info("access stream: Kafka", "brokers", a.brokers, "topic", a.cfg.Access.Topic)
	}
	var err error
	pc := a.cfg.Access
	pc.Brokers, pc.Registerer, pc.Logger = a.brokers, reg, a.log
	if a.access, err = events.NewProducer(pc); err != nil {
		return err
	}
	ac := a.cfg.Reads
	ac.Instance, ac.Registerer = a.cfg.instanceName(), reg
	a.reads, err = events.NewAggregator(a.access, ac)
	return err
}

// streamConfig is how the stats counters read the access topic.
func (a *app) streamConfig() stats.StreamConfig {
	sc := a.cfg.Counting
	sc.Brokers, sc.Topic, sc.Registerer, sc.Logger = a.brokers, a.cfg.Access.Topic, a.reg, a.log
	return sc
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
	wg.Go(func() { a.accounts.RunTokenPurge(ctx, time.Hour, a.log) })
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
