// Package testmariadb gives a test package a MariaDB primary and replica of
// its own (scripts/mariadb-pair.sh on free ports, in a temporary
// directory): the shared test server is not a replica's primary, and a test
// that stops a replica's SQL thread must not stop anyone else's. One pair
// serves a whole package run (Shared), each test in a database of its own
// (Pair.Database); TestMain stops it (StopShared).
package testmariadb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the pair's servers
)

// Pair is a running primary and replica.
type Pair struct {
	Dir                      string
	PrimaryPort, ReplicaPort int
	script                   string
}

// Start runs scripts/mariadb-pair.sh up on two free ports in a new
// temporary directory. Stop it with Stop.
func Start(ctx context.Context) (*Pair, error) {
	if _, err := exec.LookPath("mariadb-install-db"); err != nil {
		return nil, fmt.Errorf("testmariadb: mariadb-install-db is not installed (scripts/test-deps.sh installs MariaDB): %w", err)
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "docplat-mariadb-pair-")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	p := &Pair{Dir: dir, PrimaryPort: ports[0], ReplicaPort: ports[1], script: filepath.Join(root, "scripts", "mariadb-pair.sh")}
	if out, err := p.run(ctx, "up"); err != nil {
		p.Stop()
		return nil, fmt.Errorf("testmariadb: mariadb-pair.sh up: %w\n%s%s", err, out, p.logTails())
	}
	return p, nil
}

func (p *Pair) run(ctx context.Context, arg string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, p.script, arg)
	cmd.Env = append(os.Environ(), "PAIR_DIR="+p.Dir, fmt.Sprintf("PAIR_PRIMARY_PORT=%d", p.PrimaryPort),
		fmt.Sprintf("PAIR_REPLICA_PORT=%d", p.ReplicaPort),
		// Light: a test's databases are tiny, and several pairs may run
		// beside the shared server on 2 CPUs.
		"PAIR_BUFFER_POOL=16M", "PAIR_MAX_CONNECTIONS=200")
	return cmd.CombinedOutput()
}

func (p *Pair) logTails() string {
	out := ""
	for _, n := range []string{"primary", "replica"} {
		b, err := os.ReadFile(filepath.Join(p.Dir, "logs", n+".log"))
		if err == nil {
			if len(b) > 1500 {
				b = b[len(b)-1500:]
			}
			out += "\n--- " + n + ".log:\n" + string(b)
		}
	}
	return out
}

// Stop stops both servers by their PIDs and removes the directory.
func (p *Pair) Stop() {
	if out, err := p.run(context.Background(), "down"); err != nil {
		fmt.Fprintf(os.Stderr, "testmariadb: mariadb-pair.sh down: %v\n%s", err, out)
	}
	os.RemoveAll(p.Dir)
}

// PrimaryDSN and ReplicaDSN are root's DSNs for database db.
func (p *Pair) PrimaryDSN(db string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", p.PrimaryPort, db)
}

func (p *Pair) ReplicaDSN(db string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", p.ReplicaPort, db)
}

// Database creates a fresh database on the primary, waits until the
// replica has it, and drops it when the test ends.
func (p *Pair) Database(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "docplat_rep_" + hex.EncodeToString(b[:])
	p.Exec(t, true, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", p.PrimaryDSN("")); err == nil {
			_, _ = db.Exec("DROP DATABASE IF EXISTS " + name)
			db.Close()
		}
	})
	p.CaughtUp(t)
	return name
}

// Exec runs statements on the primary (or the replica) as root.
func (p *Pair) Exec(t testing.TB, primary bool, stmts ...string) {
	t.Helper()
	dsn := p.ReplicaDSN("")
	if primary {
		dsn = p.PrimaryDSN("")
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("testmariadb: %s: %v", s, err)
		}
	}
}

// StopSQLThread stops the replica applying what it receives (STOP SLAVE
// SQL_THREAD): from now on it lags; StartSQLThread resumes it.
func (p *Pair) StopSQLThread(t testing.TB) { t.Helper(); p.Exec(t, false, "STOP SLAVE SQL_THREAD") }

// StartSQLThread resumes the replica's SQL thread.
func (p *Pair) StartSQLThread(t testing.TB) { t.Helper(); p.Exec(t, false, "START SLAVE SQL_THREAD") }

// CaughtUp waits (10 s at most) until the replica has applied everything
// the primary has binlogged so far (MASTER_GTID_WAIT).
func (p *Pair) CaughtUp(t testing.TB) {
	t.Helper()
	prim, err := sql.Open("mysql", p.PrimaryDSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer prim.Close()
	var pos string
	if err := prim.QueryRow("SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	rep, err := sql.Open("mysql", p.ReplicaDSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	var res int
	if err := rep.QueryRow("SELECT MASTER_GTID_WAIT(?, 10)", pos).Scan(&res); err != nil || res != 0 {
		t.Fatalf("testmariadb: the replica did not reach the primary's %s in 10s (result %d, err %v)", pos, res, err)
	}
}

var (
	shared    *Pair
	sharedErr error
	sharedMu  sync.Mutex
)

// Shared is the package run's pair, started on first use. Without MariaDB
// the test fails when CI=true and is skipped otherwise (and always with
// DOCPLAT_TEST_SKIP_MYSQL=1, as testdb's MariaDB tests).
func Shared(t testing.TB) *Pair {
	t.Helper()
	if os.Getenv("DOCPLAT_TEST_SKIP_MYSQL") == "1" {
		t.Skip("DOCPLAT_TEST_SKIP_MYSQL=1")
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		shared, sharedErr = Start(ctx)
		cancel()
	}
	if sharedErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("a MariaDB primary and replica are needed: %v", sharedErr)
		}
		t.Skipf("a MariaDB primary and replica are needed (CI=true fails here): %v", sharedErr)
	}
	return shared
}

// StopShared stops the package run's pair, if one was started (TestMain,
// after m.Run).
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "mariadb-pair.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testmariadb: scripts/mariadb-pair.sh not found above the working directory")
		}
		dir = parent
	}
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
