package txn

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/migrations"
)

// The test domain mirrors docplat's use: a "documents" participant that
// inserts a row at commit, and a "stats" participant that reserves bytes
// against a quota at prepare and counts them at commit. Atomicity means: a
// document row exists if and only if its bytes are counted.

type docsHandler struct{}

func (docsHandler) Prepare(_ context.Context, tx *gorm.DB, txid string, payload []byte) error {
	return nil // the row is the pending document; nothing else to reserve
}

func (docsHandler) Commit(_ context.Context, tx *gorm.DB, txid string, payload []byte) error {
	return tx.Exec("INSERT INTO toy_docs (id, size) VALUES (?, ?)", txid, len(payload)).Error
}

func (docsHandler) Abort(context.Context, *gorm.DB, string, []byte) error { return nil }

type usage struct {
	Bytes int64 `json:"bytes"`
}

type statsHandler struct{ quota int64 }

func (h statsHandler) Prepare(_ context.Context, tx *gorm.DB, txid string, payload []byte) error {
	var u usage
	if err := json.Unmarshal(payload, &u); err != nil {
		return err
	}
	res := tx.Exec("UPDATE toy_usage SET reserved = reserved + ? WHERE id = 1 AND used + reserved + ? <= ?", u.Bytes, u.Bytes, h.quota)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return &VoteNo{Reason: "quota"}
	}
	return nil
}

func (statsHandler) Commit(_ context.Context, tx *gorm.DB, txid string, payload []byte) error {
	var u usage
	_ = json.Unmarshal(payload, &u)
	return tx.Exec("UPDATE toy_usage SET used = used + ?, reserved = reserved - ? WHERE id = 1", u.Bytes, u.Bytes).Error
}

func (statsHandler) Abort(_ context.Context, tx *gorm.DB, txid string, payload []byte) error {
	var u usage
	_ = json.Unmarshal(payload, &u)
	return tx.Exec("UPDATE toy_usage SET reserved = reserved - ? WHERE id = 1", u.Bytes).Error
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openDB opens a fresh database with the txn tables and the toy tables.
func openDB(t testing.TB, backend testdb.Backend, set migrations.Set) (*gorm.DB, bool) {
	t.Helper()
	cfg := &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
	var g *gorm.DB
	var err error
	dialect := migrations.SQLite
	if backend == testdb.MariaDB {
		g, err = gorm.Open(mysql.Open(testdb.MySQLDSN(t)+"?parseTime=true&loc=UTC"), cfg)
		dialect = migrations.MySQL
	} else {
		g, err = gorm.Open(sqlite.Open("file:"+filepath.Join(t.TempDir(), "db.sqlite")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"), cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := g.DB()
	t.Cleanup(func() { sqlDB.Close() })
	if _, err := migrations.Up(context.Background(), sqlDB, dialect, set); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"CREATE TABLE toy_docs (id VARCHAR(40) PRIMARY KEY, size BIGINT NOT NULL)",
		"CREATE TABLE toy_usage (id INT PRIMARY KEY, used BIGINT NOT NULL, reserved BIGINT NOT NULL)",
		"INSERT INTO toy_usage VALUES (1, 0, 0)",
	} {
		if err := g.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	return g, backend == testdb.MariaDB
}

// switchable is a coordinator status source that can be down (crashed).
type switchable struct {
	c    atomic.Pointer[Coordinator]
	down atomic.Bool
}

func (s *switchable) Status(ctx context.Context, txid string) (Decision, error) {
	if s.down.Load() {
		return "", errors.New("coordinator down")
	}
	return s.c.Load().Status(ctx, txid)
}

// world is one coordinator (sharing the documents database, as in docplat)
// and two participants with their own databases.
type world struct {
	docsDB, statsDB *gorm.DB
	docs, stats     *ParticipantEngine
	coord           *Coordinator
	status          *switchable
	crashes         *failpoint.Crashes // the steps armed to crash once
	participants    map[string]Participant
	down            map[string]*atomic.Bool // a down participant answers nobody
}

// unreachable is a participant as others see it: when down, every message
// to it fails as if its process had crashed.
type unreachable struct {
	Participant
	down *atomic.Bool
}

var errDown = errors.New("participant down")

func (u unreachable) CanCommit(ctx context.Context, txid string, payload []byte, peers []string) (Vote, error) {
	if u.down.Load() {
		return Vote{}, errDown
	}
	return u.Participant.CanCommit(ctx, txid, payload, peers)
}

func (u unreachable) PreCommit(ctx context.Context, txid string) error {
	if u.down.Load() {
		return errDown
	}
	return u.Participant.PreCommit(ctx, txid)
}

func (u unreachable) DoCommit(ctx context.Context, txid string) error {
	if u.down.Load() {
		return errDown
	}
	return u.Participant.DoCommit(ctx, txid)
}

func (u unreachable) Abort(ctx context.Context, txid string) error {
	if u.down.Load() {
		return errDown
	}
	return u.Participant.Abort(ctx, txid)
}

func (u unreachable) State(ctx context.Context, txid string) (State, error) {
	if u.down.Load() {
		return "", errDown
	}
	return u.Participant.State(ctx, txid)
}

const quotaBytes = 1000

// newWorld builds a world whose processes crash once at each of steps.
func newWorld(t testing.TB, backend testdb.Backend, steps ...string) *world {
	w := &world{status: &switchable{}}
	var forUpdate bool
	w.docsDB, forUpdate = openDB(t, backend, migrations.Docs)
	w.statsDB, _ = openDB(t, backend, migrations.Stats)
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = failpoint.TxnStep(s)
	}
	w.crashes = failpoint.Crash(t, ErrCrash, func(scope any) bool { return scope == w.docsDB || scope == w.statsDB }, names...)
	w.participants = map[string]Participant{}
	peers := func(name string) Participant { return w.participants[name] }
	opt := func(name string, db *gorm.DB, h Handler) ParticipantOptions {
		return ParticipantOptions{Name: name, DB: db, Handler: h, ForUpdate: forUpdate, ReadyTimeout: 150 * time.Millisecond,
			PrecommitTimeout: 150 * time.Millisecond, TerminationTimeout: 100 * time.Millisecond, Coordinator: w.status, Peers: peers, Logger: quiet()}
	}
	w.docs = NewParticipant(opt("documents", w.docsDB, docsHandler{}))
	w.stats = NewParticipant(opt("stats", w.statsDB, statsHandler{quota: quotaBytes}))
	w.down = map[string]*atomic.Bool{"documents": {}, "stats": {}}
	w.participants["documents"] = unreachable{w.docs, w.down["documents"]}
	w.participants["stats"] = unreachable{w.stats, w.down["stats"]}
	w.restartCoordinator()
	return w
}

// restartCoordinator replaces the coordinator by a fresh process's.
func (w *world) restartCoordinator() {
	w.coord = NewCoordinator(CoordinatorOptions{DB: w.docsDB, Participants: w.participants, VoteTimeout: 5 * time.Second,
		AckTimeout: 300 * time.Millisecond, RecoverAfter: time.Nanosecond, RestartGrace: 250 * time.Millisecond, Logger: quiet(),
		Synchronous: []string{"documents"}, CommitWait: 2 * time.Second})
	w.status.c.Store(w.coord)
	w.status.down.Store(false)
}

func (w *world) upload(t testing.TB, txid string, size int) (Outcome, error) {
	payload, _ := json.Marshal(usage{Bytes: int64(size)})
	docPayload := make([]byte, size)
	return w.coord.Execute(context.Background(), txid, []Branch{
		{Participant: "documents", Payload: docPayload},
		{Participant: "stats", Payload: payload},
	})
}

// settle lets timeouts and recovery run until no branch is in doubt.
func (w *world) settle(t testing.TB, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		w.docs.TerminateExpired(context.Background())
		w.stats.TerminateExpired(context.Background())
		if !w.status.down.Load() {
			w.coord.Recover(context.Background(), 0)
		}
		var open int64
		w.docsDB.Raw("SELECT COUNT(*) FROM txn_participant WHERE state IN ('ready','precommitted')").Scan(&open)
		var open2 int64
		w.statsDB.Raw("SELECT COUNT(*) FROM txn_participant WHERE state IN ('ready','precommitted')").Scan(&open2)
		var unfinished int64
		w.docsDB.Raw("SELECT COUNT(*) FROM txn_coordinator WHERE state IN ('started','precommit','committing','aborting')").Scan(&unfinished)
		if open+open2 == 0 && (unfinished == 0 || w.status.down.Load()) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("still in doubt after %v: %d+%d open branches, %d unfinished coordinator rows", limit, open, open2, unfinished)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertAtomic checks the invariant over every transaction so far.
func (w *world) assertAtomic(t testing.TB) (docs int64) {
	t.Helper()
	var bytesDocs int64
	w.docsDB.Raw("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM toy_docs").Row().Scan(&docs, &bytesDocs)
	var used, reserved int64
	w.statsDB.Raw("SELECT used, reserved FROM toy_usage WHERE id = 1").Row().Scan(&used, &reserved)
	if used != bytesDocs || reserved != 0 {
		t.Fatalf("not atomic: %d documents with %d bytes, stats counts used=%d reserved=%d", docs, bytesDocs, used, reserved)
	}
	if used > quotaBytes {
		t.Fatalf("quota overshot: %d > %d", used, quotaBytes)
	}
	return docs
}
