package benchsuite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	_ "github.com/go-sql-driver/mysql" // the baseline primary-key SELECT
	"github.com/redis/go-redis/v9"
)

// baselines measures what the stock parts do with the same 10 KB, with the
// same connections and duration as docplat's paths.
func (r *runner) baselines(ctx context.Context) error {
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

	// A bare net/http handler: the ceiling of any Go handler on this machine.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(r.content))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(r.content)
	})}
	go srv.Serve(l)
	defer srv.Close()
	if err := r.measureHTTP(ctx, &Measurement{Name: "nethttp", Kind: Baseline,
		Method: "a bare net/http handler in the suite's process writing the 10 KB from memory"}, get("http://"+l.Addr().String()+"/")); err != nil {
		return err
	}

	// Redis GET on node 2 (node 1 holds L2 and the hot set: leave it alone).
	rdb := redis.NewClient(&redis.Options{Addr: r.c.RedisAddr(2), PoolSize: r.cfg.Connections})
	defer rdb.Close()
	const key = "docplat:bench:10k"
	if err := rdb.Set(ctx, key, r.content, 0).Err(); err != nil {
		return fmt.Errorf("redis baseline: %w", err)
	}
	r.add(&Measurement{Name: "redis-get", Kind: Baseline,
		Method: "go-redis GET of a 10 KB value from one of the cluster's Redis nodes",
		Result: ClosedLoop(ctx, r.cfg.Connections, r.cfg.Warmup, r.cfg.Duration, r.cfg.Timeout, func(ctx context.Context) error {
			b, err := rdb.Get(ctx, key).Bytes()
			if err == nil && len(b) != len(r.content) {
				err = errors.New("short value")
			}
			return err
		})})

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
	r.add(&Measurement{Name: "mariadb-select", Kind: Baseline,
		Method: "database/sql prepared SELECT of a 10 KB BLOB by primary key (InnoDB, buffer pool hit)",
		Result: ClosedLoop(ctx, r.cfg.Connections, r.cfg.Warmup, r.cfg.Duration, r.cfg.Timeout, func(ctx context.Context) error {
			var b []byte
			err := stmt.QueryRowContext(ctx, 1).Scan(&b)
			if err == nil && len(b) != len(r.content) {
				err = errors.New("short value")
			}
			return err
		})})
	return nil
}
