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

	"docplat/accounts"
	"docplat/audit"
	"docplat/blob"
	"docplat/blob/s3blob"
	"docplat/cache"
	"docplat/docs"
	"docplat/events"
	"docplat/hotspot"
	"docplat/idempotency"
	"docplat/internal/periodic"
	"docplat/jobs"
	"docplat/lock"
	"docplat/preview"
	"docplat/recentwrites"
	"docplat/redisnodes"
	"docplat/resumable"
	"docplat/server"
	"docplat/shares"
	"docplat/sqlstore"
	"docplat/stats"
	"docplat/txn"
	"docplat/uploadlinks"
	"docplat/web"
)

// app is docplat wired together: the one place that knows every concrete type.
type app struct {
	cfg    config
	log    *slog.Logger
	reg    *prometheus.Registry
	db     *sqlstore.DB
	blobs  *blob.Store
	redis  *redisnodes.Nodes
	cache  *cache.Cache
	locker *lock.Locker
	stream *events.Stream

	stats    *stats.Service // nil when the stats service is a separate process
	statsAPI statsAPI
	coord    *txn.Coordinator
	branches []*txn.ParticipantEngine

	hotSet          *hotspot.HotSet
	edges           []hotspot.Edge      // the nginx hot tiers
	hitSources      []hotspot.HitSource // the same nginx, whose hit counters are drained
	readTokenSecret []byte

	queue   *jobs.Queue // the work queue (text extraction)
	workers *jobs.Pool  // nil: no workers in this process

	previews *preview.Service
	uploads  *resumable.Service
	idem     *idempotency.Store
	audit    *audit.Log
	accounts *accounts.Service
	docs     *docs.Service
	server   *server.Server

	closers []func() error // what the stages opened, closed in reverse
}

// statsAPI is the stats service as this process uses it: reads, counting
// sink, health (the in-process Service or a Client of a stats process).
type statsAPI interface {
	server.Stats
	Ping(ctx context.Context) error
}

// openDB opens the document database, migrating when asked, without its
// read replicas (the tools' commands read and write the primary only).
func openDB(ctx context.Context, o storeOptions, log *slog.Logger) (*sqlstore.DB, error) {
	o.DB.ReplicaDSNs = nil
	return openWithReplicas(ctx, o, log)
}

func openWithReplicas(ctx context.Context, o storeOptions, log *slog.Logger) (*sqlstore.DB, error) {
	cfg := o.DB
	cfg.Logger = log
	return sqlstore.OpenReady(ctx, cfg, o.Migrate)
}

// openStore opens the document database, with its read replicas, and the
// blob store beside it; reg (nil: none) gets the S3 backend's metrics.
func openStore(ctx context.Context, o storeOptions, log *slog.Logger, reg prometheus.Registerer) (*sqlstore.DB, *blob.Store, error) {
	db, err := openWithReplicas(ctx, o, log)
	if err != nil {
		return nil, nil, err
	}
	blobs, err := openBlobs(ctx, o, log, reg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, blobs, nil
}

// openBlobs opens the blob store: on S3 when an endpoint is configured,
// else in the data directory.
func openBlobs(ctx context.Context, o storeOptions, log *slog.Logger, reg prometheus.Registerer) (*blob.Store, error) {
	if !o.Blob.Enabled() {
		return blob.Open(o.DB.DataDir)
	}
	b, err := s3blob.Open(ctx, o.Blob, reg)
	if err != nil {
		return nil, err
	}
	log.Info("blob store on S3", "endpoint", o.Blob.Endpoint, "bucket", o.Blob.Bucket, "tls", o.Blob.TLS)
	return blob.New(b), nil
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
	for _, stage := range []func(context.Context) error{a.openStores, a.openCacheAndLock, a.openStream, a.openQueue, a.wireHot} {
		if err := stage(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.wireServices(); err != nil {
		return nil, err
	}
	return a, a.wireWorkers(cfg.JobsInProcess || a.embeddedStream())
}

// embeddedStream reports whether Kafka is the in-process development
// broker, which no other process can reach.
func (a *app) embeddedStream() bool { return len(a.cfg.Stream.Brokers) == 0 }

// openQueue connects the work queue, on the access stream's brokers, and
// creates its topics.
func (a *app) openQueue(ctx context.Context) (err error) {
	jc := a.cfg.Jobs
	jc.Brokers, jc.Registerer, jc.Logger = a.stream.Brokers, a.reg, a.log
	if err := jobs.EnsureTopics(ctx, jc); err != nil {
		return fmt.Errorf("work queue: %w", err)
	}
	if a.queue, err = jobs.NewQueue(jc); err != nil {
		return err
	}
	a.closers = append(a.closers, func() error { a.queue.Close(); return nil })
	return nil
}

// jobKinds are the work the workers do, one line per kind.
func (a *app) jobKinds() map[string]jobs.Kind {
	return map[string]jobs.Kind{
		docs.JobExtract: a.docs.ExtractKind(),
		docs.JobPreview: a.docs.PreviewKind(),
	}
}

// wireWorkers builds this process's job workers when it runs them.
func (a *app) wireWorkers(run bool) (err error) {
	if !run || a.cfg.Jobs.Workers == 0 {
		return nil
	}
	jc := a.cfg.Jobs
	jc.Brokers, jc.Registerer, jc.Logger = a.stream.Brokers, a.reg, a.log
	a.workers, err = jobs.NewPool(jc, a.jobKinds())
	return err
}

// openStores is the first stage: the document database and blob store,
// the stats service and the three-phase commit between them.
func (a *app) openStores(ctx context.Context) (err error) {
	so := a.cfg.Store
	so.DB.Registerer = a.reg // the replicas' metrics
	if a.db, a.blobs, err = openStore(ctx, so, a.log, a.reg); err != nil {
		return err
	}
	a.closers = append(a.closers, a.db.Close)
	po := a.cfg.Previews
	po.Store, po.Registerer, po.Logger = a.blobs, a.reg, a.log
	if a.previews, err = preview.New(po); err != nil {
		return err
	}
	return a.wireTransactions(ctx)
}

// openCacheAndLock connects the two-level cache and the write lock to
// their Redis nodes (embedded ones when none are configured).
func (a *app) openCacheAndLock(ctx context.Context) (err error) {
	if a.redis, err = redisnodes.Open(a.cfg.Redis, !a.db.Embedded(), a.log); err != nil {
		return err
	}
	a.closers = append(a.closers, a.redis.Close)
	co := a.cfg.Cache.Flagged()
	co.Redis, co.WaitReplicas, co.Registerer, co.Logger = a.redis.L2, a.redis.WaitReplicas, a.reg, a.log
	if a.cache, err = cache.New(ctx, co); err != nil {
		return err
	}
	a.closers = append(a.closers, func() error { a.cache.Close(); return nil })
	if a.locker, err = lock.New(a.redis.LockAddrs, lock.Options{Registerer: a.reg}); err != nil {
		return err
	}
	a.closers = append(a.closers, a.locker.Close)
	return nil
}

// openStream connects the access stream. Without Kafka brokers its
// development broker keeps its log in the data directory on SQLite (one
// instance by construction) and in memory on MariaDB, where several
// instances may share the data directory (each then counts its own reads,
// under its own topic id).
func (a *app) openStream(ctx context.Context) (err error) {
	sc := a.cfg.Stream
	if a.db.Embedded() {
		sc.DevBroker.DataDir = filepath.Join(a.cfg.Store.DB.DataDir, "kafka")
	}
	sc.Instance, sc.Registerer, sc.Logger = a.cfg.instanceName(), a.reg, a.log
	if a.stream, err = events.OpenStream(ctx, sc); err != nil {
		return err
	}
	// Closed first: reads handed over after the background jobs ended
	// still go out.
	a.closers = append(a.closers, func() error { a.stream.Close(); return nil })
	return nil
}

// wireServices builds the domain services and the HTTP server over the
// stages before.
func (a *app) wireServices() error {
	cfg := a.cfg
	ao := cfg.Accounts
	if len(a.edges) > 0 {
		// nginx serves read tokens on its own: a change of a user's rights
		// revokes theirs there.
		ao.RightsChanged = cfg.Hot.Revoker(cfg.InternalSecret, cfg.Server.ReadTokenTTL).RightsChanged
	}
	a.accounts = accounts.NewService(accounts.WithCache(a.db.Accounts(), a.cache), ao)
	repo := docs.WithCache(docs.WithThreePhaseCommit(a.db.Documents(), a.coord, cfg.NoDepartmentQuota), a.cache, a.locker.Hold(a.log), cfg.LockTimeout, a.edgePurger())
	repo = docs.WithSearchCache(repo, cfg.SearchCacheTTL, 4096)
	do := cfg.Docs
	do.Logger, do.ContentCache, do.Access, do.Instance, do.Jobs = a.log, a.cache, a.stream.Reads, cfg.instanceName(), a.queue
	do.JobLock = a.locker.Hold(a.log) // the trash purge runs on one instance at a time
	do.Registerer = a.reg
	if do.HasPreview == nil { // a test's may say none, to see the state before the job
		do.HasPreview = preview.Paged
	}
	do.Preview = func(ctx context.Context, sha, mime string, size int64, body blob.Object) error {
		return a.previews.Generate(ctx, preview.Source{SHA256: sha, Size: size, Mime: mime, Body: body})
	}
	do.PreviewGaveUp = func(_ context.Context, sha, mime, reason string) error { return a.previews.GiveUp(sha, mime, reason) }
	a.docs = docs.NewService(repo, a.blobs, do)
	a.idem = idempotency.New(a.db.Gorm(), idempotency.Options{Registerer: a.reg, Logger: a.log})
	audo := cfg.Audit
	audo.Logger = a.log
	a.audit = audit.New(a.db.Gorm(), audo)
	uo := cfg.Uploads
	// With the blobs on S3, unfinished uploads live in the same bucket, so
	// that any instance continues an upload another one started.
	if b := cfg.Store.Blob; b.Enabled() {
		uo.S3 = &resumable.S3{Endpoint: b.Endpoint, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey,
			Region: b.Region, TLS: b.TLS, CreateBucket: b.CreateBucket}
	}
	uo.Dir, uo.Registerer, uo.Logger = resumable.Dir(cfg.Store.DB.DataDir), a.reg, a.log
	var err error
	if a.uploads, err = resumable.New(a.db.Gorm(), a.docs, a.locker, a.idem, a.departmentUsage, uo); err != nil {
		return err
	}
	so := cfg.Server
	// Password guesses at a share or upload link: 10 per 5 minutes per link, shared by every instance.
	guesses := &shares.RedisLimiter{Client: a.redis.L2, Burst: 10, Window: 5 * time.Minute}
	so.ReadTokenSecret = a.readTokenSecret
	a.server = server.New(server.Deps{
		Idempotency:  a.idem,
		Limits:       a.redis.L2,
		Audit:        a.audit,
		Accounts:     a.accounts,
		Docs:         a.docs,
		Previews:     a.previews,
		Uploads:      a.uploads,
		Shares:       shares.New(a.db.ShareLinks(), a.docs, guesses, shares.Options{Edges: a.shareEdges(), Logger: a.log}),
		UploadLinks:  uploadlinks.New(a.db.UploadLinks(), a.accounts, a.docs, guesses),
		Checks:       map[string]server.Check{"database": a.db.Ping, "blob store": a.blobs.Ping},
		Degraded:     a.degradedChecks(),
		RecentWrites: a.recentWrites(),
		Stats:        a.statsAPI,
		Hot:          server.ListHotSet(a.hotSet),
		Internal:     a.internalHandler(),
		UI:           web.Handler(),
		Logger:       a.log,
		Registry:     a.reg,
	}, so)
	return nil
}

// degradedChecks are the dependencies /readyz reports without failing:
// the cache, the locks, the stats service and each database replica (a
// replica skipped leaves its reads to the primary).
func (a *app) degradedChecks() map[string]server.Check {
	m := map[string]server.Check{"cache": a.cache.Healthy, "locks": a.locker.Healthy, "invalidations": a.following, "stats": a.statsAPI.Ping}
	for name, check := range a.db.ReplicaChecks() {
		m[name] = check
	}
	return m
}

// recentWrites marks writers for read-your-writes over the replicas, in
// L2's Redis, as long as a replica read can be stale; nil without replicas.
func (a *app) recentWrites() server.RecentWrites {
	staleness := a.cfg.Store.DB.ReplicaStaleness()
	if staleness == 0 {
		return nil
	}
	// The mark is set before the write's commit; a second of margin covers
	// the commit's own duration (it is marked again after it).
	return recentwrites.New(a.redis.L2, staleness+time.Second, a.log)
}

// departmentUsage is what the resumable uploads' early quota check reads:
// the department's quota as the three-phase commit will charge it (the
// usage bucket of users without a department: its own quota) and its
// bytes used as the stats service counts them.
func (a *app) departmentUsage(ctx context.Context, dept string) (used, quota int64, err error) {
	bucket := dept
	if dept == "" {
		bucket, quota = docs.NoDepartment, a.cfg.NoDepartmentQuota
	} else if quota, err = a.db.Documents().DepartmentQuota(ctx, dept); err != nil {
		return 0, 0, err
	}
	if quota == 0 {
		return 0, 0, nil
	}
	usage, err := a.statsAPI.Departments(ctx, bucket)
	if err != nil {
		return 0, 0, err
	}
	if len(usage) == 1 {
		used = usage[0].BytesUsed
	}
	return used, quota, nil
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
func (a *app) wireTransactions(ctx context.Context) (err error) {
	metrics := txn.NewMetrics(a.reg)
	participants := map[string]txn.Participant{}
	a.coord = txn.NewCoordinator(txn.CoordinatorOptions{DB: a.db.Gorm(), Participants: participants, Logger: a.log, Metrics: metrics,
		RecoverAfter: a.cfg.TxnRecover,
		// An answered write is readable at once: the coordinator waits for
		// the documents participant, which every instance reads.
		Synchronous: []string{docs.ParticipantDocuments}})
	branch := func(o txn.ParticipantOptions) {
		o.Coordinator, o.Peers, o.Logger, o.Metrics = a.coord, func(name string) txn.Participant { return participants[name] }, a.log, metrics
		o.ReadyTimeout, o.PrecommitTimeout = a.cfg.TxnTimeout, a.cfg.TxnTimeout
		e := txn.NewParticipant(o)
		participants[o.Name], a.branches = e, append(a.branches, e)
	}
	branch(txn.ParticipantOptions{Name: docs.ParticipantDocuments, DB: a.db.Gorm(), Handler: a.db.DocsParticipant(a.blobs), ForUpdate: !a.db.Embedded()})
	if url := a.cfg.Stats.URL; url != "" {
		// The stats service is its own process: reached over HTTP.
		a.statsAPI = &stats.Client{Base: url, Secret: a.cfg.InternalSecret}
		participants[stats.ParticipantName] = (&txn.HTTPClient{Base: url, Secret: a.cfg.InternalSecret}).Participant(stats.ParticipantName)
		a.log.Info("stats service: remote", "url", url)
		return nil
	}
	sc := a.cfg.Stats.DB // in the document database's directory, with its pool size
	sc.DataDir, sc.MaxOpenConns, sc.Logger = a.cfg.Store.DB.DataDir, a.cfg.Store.DB.MaxOpenConns, a.log
	if a.stats, err = stats.Open(ctx, sc); err != nil {
		return err
	}
	a.closers = append(a.closers, a.stats.Close)
	a.statsAPI = a.stats
	branch(txn.ParticipantOptions{Name: stats.ParticipantName, DB: a.stats.DB(), Handler: a.stats.Usage(), ForUpdate: a.stats.MySQL()})
	return nil
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
// transaction recovery and timeouts, the hot path and the stats counters'
// consumer.
func (a *app) runBackground(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	jobs := []func(){
		func() { a.docs.Run(ctx, a.cfg.CountsFlush, a.cfg.GCInterval) },
		func() { a.stream.Run(ctx) }, // publishes its last window when ctx ends, before Close flushes it
		func() { a.accounts.RunTokenPurge(ctx, time.Hour, a.log) },
		func() { a.cache.Run(ctx) },
		func() { a.coord.Run(ctx, 0) },
		func() { a.idem.Run(ctx, time.Minute) },
		func() { a.audit.Run(ctx, time.Hour) },
		func() { a.uploads.Run(ctx) },
	}
	for _, b := range a.branches {
		jobs = append(jobs, func() { b.Run(ctx, 0) })
	}
	// Downloads of non-public documents reach the audit log through the
	// access stream, in the app (the audit log is in its database).
	jobs = append(jobs, func() {
		audit.ConsumeDownloads(ctx, a.db.Gorm(), audit.DownloadsConfig{Brokers: a.stream.Brokers, Topic: a.stream.Topic,
			SessionTimeout: a.cfg.Counting.SessionTimeout, Logger: a.log})
	})
	if a.stats != nil { // a separate stats process consumes the topic itself
		sc := a.cfg.Counting
		sc.Brokers, sc.Registerer, sc.Logger = a.stream.Brokers, a.reg, a.log
		jobs = append(jobs, func() { a.stats.ConsumeStream(ctx, sc) })
	}
	// Every instance sweeps: a claim takes each document once.
	jobs = append(jobs, func() {
		periodic.Run(ctx, max(a.cfg.TextSweepAfter/4, time.Second), func(ctx context.Context) {
			if n, err := a.docs.SweepPendingText(ctx, a.cfg.TextSweepAfter); err != nil {
				a.log.Warn("sweeping documents whose text is pending", "err", err)
			} else if n > 0 {
				a.log.Info("text extraction enqueued again for documents pending too long", "documents", n)
			}
			if n, err := a.docs.SweepPendingPreviews(ctx, a.cfg.TextSweepAfter); err != nil {
				a.log.Warn("sweeping documents whose previews are pending", "err", err)
			} else if n > 0 {
				a.log.Info("preview jobs enqueued again for documents pending too long", "documents", n)
			}
		})
	})
	if a.workers != nil {
		a.logWorkers("job workers: in this process")
		jobs = append(jobs, func() { a.workers.Run(ctx) })
	}
	for _, job := range append(jobs, a.hotJobs(ctx)...) {
		wg.Go(job)
	}
	return &wg
}

// Close closes what build opened, in reverse.
func (a *app) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// logWorkers says where this process's job workers work.
func (a *app) logWorkers(msg string) {
	jc := a.cfg.Jobs
	a.log.Info(msg, "workers", jc.Workers, "topic", jc.Topic, "group", jc.Group, "brokers", a.stream.Brokers,
		"embedded_kafka", a.embeddedStream())
}
