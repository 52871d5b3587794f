package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"

	"docplat/docs"
	"docplat/internal/dbopen"
)

// Read replicas (Config.ReplicaDSNs): MariaDB servers replicating the
// primary, which answer the reads the docs layer allows them
// (docs.MayReadReplica: searches and listings, and the document cache's
// misses, which fence what they get) while they are healthy. Everything
// else - writes, transactions, a writer's own reads - goes to the primary.
//
// Health is the replica's lag as a heartbeat measures it, not
// Seconds_Behind_Master (NULL, not large, when the SQL thread stops; zero
// while the IO thread is cut off): every interval this process writes the
// time to its own row of replica_heartbeats on the primary and reads the
// row back from every replica. A replica's lag is the age of the oldest
// beat it has not seen yet (0 when it has seen the last one), measured on
// this process's clock only, so that clocks of servers and instances need
// not agree. A replica whose lag exceeds ReplicaMaxLag, or that does not
// answer, is skipped until a check finds it within the bound again. A
// replica's lag can grow by at most one interval between two checks: the
// staleness of a replica read is bounded by ReplicaMaxLag + the interval
// (ReplicaStaleness), which read-your-writes markers must outlive.

// replicaSet is the primary's replicas and their monitor.
type replicaSet struct {
	primary  *DB
	list     []*replica
	maxLag   time.Duration
	interval time.Duration
	instance string // this process's heartbeat row
	log      *slog.Logger
	rr       atomic.Uint64

	mu          sync.Mutex
	beats       []time.Time // the beats written and committed, oldest first
	beatFailing bool        // the last beat could not be written (check's goroutine only)

	routed *prometheus.CounterVec
	stop   context.CancelFunc
	done   chan struct{}
}

type replica struct {
	name string // host:port/database, no credentials
	dsn  string
	cfg  Config
	db   atomic.Pointer[DB] // nil until it could be opened

	healthy atomic.Bool
	lag     atomic.Int64           // nanoseconds, last check
	problem atomic.Pointer[string] // why it is skipped ("" when healthy)
}

// Replica is one replica's state as the last check saw it.
type Replica struct {
	Name    string
	Healthy bool
	Lag     time.Duration
	Problem string // why it is skipped; empty when healthy
}

// ReplicaName is how a replica DSN is named in logs, metrics and /readyz:
// its address and database, without credentials.
func ReplicaName(dsn string) string {
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "unparsable DSN"
	}
	return c.Addr + "/" + c.DBName
}

// replicaInterval is how often replicas are checked: a quarter of the lag
// bound, at most every 500 ms.
func replicaInterval(maxLag time.Duration) time.Duration {
	return min(max(maxLag/4, 50*time.Millisecond), 500*time.Millisecond)
}

// ReplicaStaleness is the oldest a replica read can be: the lag bound plus
// one check interval (a replica's lag grows unseen between two checks).
func (c Config) ReplicaStaleness() time.Duration {
	if len(c.ReplicaDSNs) == 0 {
		return 0
	}
	return c.ReplicaMaxLag + replicaInterval(c.ReplicaMaxLag)
}

// startReplicas opens the replicas and checks them once before returning,
// so that reads are routed at once; a replica down at start is opened by a
// later check.
func (db *DB) startReplicas(ctx context.Context, cfg Config) error {
	if len(cfg.ReplicaDSNs) == 0 {
		return nil
	}
	if db.Embedded() {
		return errors.New("DOCPLAT_MYSQL_REPLICA_DSNS needs DOCPLAT_MYSQL_DSN: replicas are MariaDB's, not the embedded database's")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	maxLag := cfg.ReplicaMaxLag
	if maxLag <= 0 {
		maxLag = 2 * time.Second
	}
	rs := &replicaSet{primary: db, maxLag: maxLag, interval: replicaInterval(maxLag), log: log,
		instance: fmt.Sprintf("%016x", rand.Uint64()), done: make(chan struct{})}
	for _, dsn := range cfg.ReplicaDSNs {
		rc := cfg
		rc.MySQLDSN, rc.ReplicaDSNs = dsn, nil
		rs.list = append(rs.list, &replica{name: ReplicaName(dsn), dsn: dsn, cfg: rc})
	}
	if err := rs.register(cfg.Registerer); err != nil {
		return err
	}
	// Rows of processes long gone.
	_ = db.gorm.WithContext(ctx).Exec("DELETE FROM replica_heartbeats WHERE updated_at < ?", time.Now().UTC().Add(-24*time.Hour)).Error
	rs.check(ctx)
	mctx, stop := context.WithCancel(context.Background())
	rs.stop = stop
	go rs.run(mctx)
	db.replicas = rs
	for _, r := range rs.list {
		s := r.state()
		log.Info("database replica", "replica", s.Name, "healthy", s.Healthy, "lag", s.Lag, "problem", s.Problem, "max_lag", maxLag)
	}
	return nil
}

func (rs *replicaSet) register(reg prometheus.Registerer) error {
	rs.routed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_db_reads_routed_total",
		Help: "Reads a replica was allowed to answer (searches, listings, document cache misses), by who answered: a replica's name, or primary (no healthy replica, or the caller wrote within the lag bound)."}, []string{"to"})
	if reg == nil {
		return nil
	}
	cs := []prometheus.Collector{rs.routed, replicaCollector{rs},
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "docplat_replica_fenced_reads_total",
			Help: "Document cache misses a replica answered older than the cache's revision fence (or without the document), read again from the primary."},
			func() float64 { return float64(docs.ReplicaFencedReads()) })}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// replicaCollector reports each replica's last check.
type replicaCollector struct{ rs *replicaSet }

var (
	replicaLagDesc = prometheus.NewDesc("docplat_db_replica_lag_seconds",
		"A replica's lag behind the primary at its last check (heartbeat; the check interval when it did not answer).", []string{"replica"}, nil)
	replicaHealthyDesc = prometheus.NewDesc("docplat_db_replica_healthy",
		"1 when a replica answers within the lag bound and serves reads, 0 when it is skipped.", []string{"replica"}, nil)
)

func (c replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- replicaLagDesc
	ch <- replicaHealthyDesc
}

func (c replicaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c.rs.list {
		s := r.state()
		h := 0.0
		if s.Healthy {
			h = 1
		}
		ch <- prometheus.MustNewConstMetric(replicaLagDesc, prometheus.GaugeValue, s.Lag.Seconds(), s.Name)
		ch <- prometheus.MustNewConstMetric(replicaHealthyDesc, prometheus.GaugeValue, h, s.Name)
	}
}

func (r *replica) state() Replica {
	s := Replica{Name: r.name, Healthy: r.healthy.Load(), Lag: time.Duration(r.lag.Load())}
	if p := r.problem.Load(); p != nil {
		s.Problem = *p
	}
	return s
}

func (r *replica) set(healthy bool, lag time.Duration, problem string) {
	r.lag.Store(int64(lag))
	r.problem.Store(&problem)
	r.healthy.Store(healthy)
}

func (rs *replicaSet) run(ctx context.Context) {
	defer close(rs.done)
	t := time.NewTicker(rs.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rs.check(ctx)
		}
	}
}

// check writes a beat on the primary, then reads every replica's view of
// this process's row.
func (rs *replicaSet) check(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, max(rs.interval, time.Second))
	defer cancel()
	at := time.Now()
	err := rs.primary.gorm.WithContext(cctx).Exec(`INSERT INTO replica_heartbeats (instance, beat, updated_at) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE beat = VALUES(beat), updated_at = VALUES(updated_at)`, rs.instance, at.UnixNano(), at.UTC()).Error
	if err == nil {
		rs.mu.Lock()
		rs.beats = append(rs.beats, at)
		// Beats older than a lag that would be skipped anyway are not needed.
		cut := 0
		for cut < len(rs.beats)-1 && time.Since(rs.beats[cut+1]) > 4*rs.maxLag+time.Minute {
			cut++
		}
		rs.beats = slices.Delete(rs.beats, 0, cut)
		rs.mu.Unlock()
	}
	switch {
	case err == nil && rs.beatFailing:
		rs.beatFailing = false
		rs.log.Info("replica heartbeat: writing the beat on the primary works again")
	case err != nil && !rs.beatFailing && ctx.Err() == nil:
		// Without beats the lag of those already written still grows on
		// each check: replicas that have not shown them are skipped.
		rs.beatFailing = true
		rs.log.Warn("replica heartbeat: writing the beat on the primary failed", "err", err)
	}
	var wg sync.WaitGroup
	for _, r := range rs.list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs.checkOne(cctx, r)
		}()
	}
	wg.Wait()
}

func (rs *replicaSet) checkOne(ctx context.Context, r *replica) {
	was := r.state()
	db := r.db.Load()
	if db == nil {
		o, err := dbopen.Open(ctx, dbopen.Config{What: "replica " + r.name, DSNSetting: "DOCPLAT_MYSQL_REPLICA_DSNS",
			MySQLDSN: r.dsn, MaxOpenConns: r.cfg.MaxOpenConns})
		if err != nil {
			rs.report(r, was, false, rs.interval, "unreachable: "+err.Error())
			return
		}
		db = &DB{gorm: o.Gorm, sql: o.SQL, name: o.Dialect, dialect: rs.primary.dialect, sqlSearchOnly: rs.primary.sqlSearchOnly}
		r.db.Store(db)
	}
	var beat int64
	err := db.sql.QueryRowContext(ctx, "SELECT beat FROM replica_heartbeats WHERE instance = ?", rs.instance).Scan(&beat)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		rs.report(r, was, false, rs.interval, "heartbeat unreadable: "+err.Error())
		return
	}
	lag := rs.lagAfter(time.Unix(0, beat))
	if lag > rs.maxLag {
		rs.report(r, was, false, lag, fmt.Sprintf("lagging %s behind the primary, over the bound %s", lag.Round(time.Millisecond), rs.maxLag))
		return
	}
	rs.report(r, was, true, lag, "")
}

// lagAfter is the age of the oldest beat written after seen (0: none).
func (rs *replicaSet) lagAfter(seen time.Time) time.Duration {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	i, _ := slices.BinarySearchFunc(rs.beats, seen, func(b, t time.Time) int { return b.Compare(t) })
	for i < len(rs.beats) && !rs.beats[i].After(seen) {
		i++
	}
	if i == len(rs.beats) {
		return 0
	}
	return time.Since(rs.beats[i])
}

func (rs *replicaSet) report(r *replica, was Replica, healthy bool, lag time.Duration, problem string) {
	first := r.problem.Load() == nil // startReplicas logs the first state
	r.set(healthy, lag, problem)
	switch {
	case first:
	case was.Healthy && !healthy:
		rs.log.Warn("database replica skipped", "replica", r.name, "problem", problem)
	case !was.Healthy && healthy:
		rs.log.Info("database replica serves reads again", "replica", r.name, "lag", lag)
	}
}

// pick is a healthy replica, in turn; nil when none is.
func (rs *replicaSet) pick() *replica {
	n := len(rs.list)
	start := int(rs.rr.Add(1))
	for i := range n {
		r := rs.list[(start+i)%n]
		if r.healthy.Load() && r.db.Load() != nil {
			return r
		}
	}
	return nil
}

func (rs *replicaSet) close() {
	rs.stop()
	<-rs.done
	for _, r := range rs.list {
		if db := r.db.Load(); db != nil {
			db.sql.Close()
		}
	}
}

// forRead is the database a read under ctx runs on: a healthy replica when
// the docs layer allows one for it (docs.MayReadReplica, and the caller
// did not just write), the primary otherwise.
func (db *DB) forRead(ctx context.Context) *DB {
	rs := db.replicas
	if rs == nil {
		return db
	}
	route := docs.ReplicaRouteOf(ctx)
	if route == nil {
		return db
	}
	r := rs.pick()
	if r == nil || !route.Allowed() {
		rs.routed.WithLabelValues("primary").Inc()
		return db
	}
	route.Served()
	rs.routed.WithLabelValues(r.name).Inc()
	return r.db.Load()
}

// Replicas is every replica's state as the last check saw it (nil without
// replicas).
func (db *DB) Replicas() []Replica {
	if db.replicas == nil {
		return nil
	}
	out := make([]Replica, len(db.replicas.list))
	for i, r := range db.replicas.list {
		out[i] = r.state()
	}
	return out
}

// ReplicaChecks are the readiness checks of the replicas, one per replica
// ("replica host:port/db"), answering the last check's verdict. A skipped
// replica degrades the instance but does not make it unready: the primary
// answers every read a replica would have.
func (db *DB) ReplicaChecks() map[string]func(context.Context) error {
	out := map[string]func(context.Context) error{}
	if db.replicas == nil {
		return out
	}
	for _, r := range db.replicas.list {
		out["replica "+r.name] = func(context.Context) error {
			if s := r.state(); !s.Healthy {
				return errors.New(s.Problem)
			}
			return nil
		}
	}
	return out
}
