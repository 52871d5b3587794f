package benchsuite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"docplat/loadgen"

	_ "github.com/go-sql-driver/mysql" // the baseline primary-key SELECT
	"github.com/redis/go-redis/v9"
)

// baselines measures what the stock parts do with the same 10 KB, with the
// same connections and duration as docplat's paths.
func (r *runner) baselines(ctx context.Context) error {
	r.idle(ctx, max(2*time.Second, r.cfg.Duration/2))
	static, err := r.c.StaticDir()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(static, "10k.txt"), r.content, 0o644); err != nil {
		return err
	}
	staticURL := r.c.NginxURL() + "/_bench/static/10k.txt"
	if err := r.sameBytes(ctx, staticURL); err != nil {
		return err
	}
	if err := r.measureHTTP(ctx, &Measurement{Name: "nginx-static", Kind: Baseline,
		Method: "the cluster's nginx serving the 10 KB as a static file (sendfile)"}, get(staticURL)); err != nil {
		return err
	}

	// A bare net/http handler, in a process of its own: the ceiling of any
	// Go handler on this machine.
	nethttpURL, stopNetHTTP, err := r.startNetHTTP(ctx, filepath.Join(static, "10k.txt"))
	if err != nil {
		return err
	}
	defer stopNetHTTP()
	if err := r.sameBytes(ctx, nethttpURL); err != nil {
		return err
	}
	if err := r.measureHTTP(ctx, &Measurement{Name: "nethttp", Kind: Baseline,
		Method: "a bare net/http handler (benchsuite/nethttpd, its own process) writing the 10 KB from memory"}, get(nethttpURL)); err != nil {
		return err
	}

	// Redis GET on node 2 (node 1 holds L2 and the hot set: leave it alone).
	rdb := redis.NewClient(&redis.Options{Addr: r.c.RedisAddr(2), PoolSize: r.cfg.Connections})
	defer rdb.Close()
	const key = "docplat:bench:10k"
	if err := rdb.Set(ctx, key, r.content, 0).Err(); err != nil {
		return fmt.Errorf("redis baseline: %w", err)
	}
	r.addOps(ctx, &Measurement{Name: "redis-get", Kind: Baseline,
		Method: "go-redis GET of a 10 KB value from one of the cluster's Redis nodes"}, func(ctx context.Context) error {
		b, err := rdb.Get(ctx, key).Bytes()
		if err == nil && len(b) != len(r.content) {
			err = errors.New("short value")
		}
		return err
	})

	// MariaDB primary-key SELECT of a 10 KB BLOB in the cluster's database.
	db, err := sql.Open("mysql", r.c.DSN())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(r.cfg.Connections)
	db.SetMaxIdleConns(r.cfg.Connections)
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS bench_baseline_blob (id INT PRIMARY KEY, body MEDIUMBLOB NOT NULL) ENGINE=InnoDB",
		"REPLACE INTO bench_baseline_blob (id, body) VALUES (1, ?)",
	} {
		args := []any{}
		if bytes.Contains([]byte(q), []byte("?")) {
			args = append(args, r.content)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("mariadb baseline: %w", err)
		}
	}
	stmt, err := db.PrepareContext(ctx, "SELECT body FROM bench_baseline_blob WHERE id = ?")
	if err != nil {
		return err
	}
	defer stmt.Close()
	r.addOps(ctx, &Measurement{Name: "mariadb-select", Kind: Baseline,
		Method: "database/sql prepared SELECT of a 10 KB BLOB by primary key (InnoDB, buffer pool hit)"}, func(ctx context.Context) error {
		var b []byte
		err := stmt.QueryRowContext(ctx, 1).Scan(&b)
		if err == nil && len(b) != len(r.content) {
			err = errors.New("short value")
		}
		return err
	})
	return nil
}

// addOps measures op in ClosedLoop with the suite's settings, and its CPU.
func (r *runner) addOps(ctx context.Context, m *Measurement, op Op) {
	m.Result, m.CPU, _ = r.timed(r.cfg.Warmup, func() (*loadgen.Result, error) {
		return ClosedLoop(ctx, r.cfg.Connections, r.cfg.Warmup, r.cfg.Duration, r.cfg.Timeout, op), nil
	})
	r.add(m)
}
