// Package localcluster starts and stops scripts/cluster.sh's cluster from
// Go (the benchmark suite and the end-to-end tests), on free ports, in a
// temporary directory and with databases of its own that Stop drops.
package localcluster

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // dropping the run's databases
)

// Cluster is scripts/cluster.sh's cluster, started on ports and a database
// of its own so that it never meets a cluster already running on the
// defaults. Port layout (cluster.sh): nginx Base, nginx admin Base+1, stats
// Base+10, app i Base+10+i, Kafka Base+20, Redis i Base+30+i, detector i
// Base+40+i, MariaDB primary and replica (Options.Replica) Base+21 and +22,
// MinIO (Options.S3) Base+23 (+24 its console), the Redis Cluster
// (Options.RedisCluster) Base+43..48 with buses on Base+34..39; Base+14..19
// are free for extra apps (StartApp).
type Cluster struct {
	Repo     string // repository root (scripts/cluster.sh lives there)
	Dir      string // CLUSTER_DIR
	Base     int    // CLUSTER_BASE
	DB       string // CLUSTER_DB (and DB+"_stats")
	Password string // the admin's
	env      []string
	log      *slog.Logger
	mysql    string    // host:port of the cluster's MariaDB
	mariadb  *exec.Cmd // the cluster's own server (Options.OwnMariaDB), else nil
	replica  bool      // Options.Replica: cluster.sh runs a primary and replica of its own
	// redisCluster: L2 on a Redis Cluster (Options.RedisCluster).
	redisCluster bool
}

// Options are Launch's knobs beyond the defaults.
type Options struct {
	WorkerConns int      // NGINX_WORKER_CONNECTIONS
	Env         []string // reaches every process (DOCPLAT_*)
	// OwnMariaDB starts a MariaDB server for this cluster alone (a datadir
	// under Dir, a port of the cluster's range) instead of using the
	// machine's shared one, so that its CPU and its latency belong to this
	// cluster only (the benchmark suite measures both). Stop stops it.
	OwnMariaDB bool
	// S3 keeps the blobs in a MinIO of the cluster's own (CLUSTER_S3=1:
	// scripts/minio.sh, a port of the cluster's range) instead of the data
	// directory; the apps get DOCPLAT_BLOB_S3_* (blob.env).
	S3 bool
	// Replica runs the cluster on a MariaDB primary and replica of its own
	// (cluster.sh CLUSTER_REPLICA=1: scripts/mariadb-pair.sh, ports
	// Base+21 and Base+22, datadirs under Dir) with the apps reading from
	// the replica. It replaces OwnMariaDB.
	Replica bool
	// RedisCluster puts L2 and the hot set on a Redis Cluster (3 masters,
	// 3 replicas; cluster.sh's CLUSTER_REDIS_CLUSTER=1) instead of Redis
	// node 1; the three nodes stay the Redlock nodes.
	RedisCluster bool
}

// MySQLRoot is the DSN of the machine's MariaDB that cluster.sh uses.
const MySQLRoot = "root@tcp(127.0.0.1:3306)/"

// Launch runs `scripts/cluster.sh up` on free ports in a new temporary
// directory, with a database named for this run. workerConns sizes nginx
// (NGINX_WORKER_CONNECTIONS); extraEnv reaches every process (DOCPLAT_*).
func Launch(ctx context.Context, repo string, workerConns int, extraEnv []string, log *slog.Logger) (*Cluster, error) {
	return LaunchWith(ctx, repo, Options{WorkerConns: workerConns, Env: extraEnv}, log)
}

// LaunchWith is Launch with Options.
func LaunchWith(ctx context.Context, repo string, opts Options, log *slog.Logger) (*Cluster, error) {
	workerConns, extraEnv := opts.WorkerConns, opts.Env
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	repo, err := filepath.Abs(repo)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "docplat-cluster-")
	if err != nil {
		return nil, err
	}
	// nginx's workers (user nobody) read the static baseline file below it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	base, err := freeBase()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Repo: repo, Dir: dir, Base: base, log: log,
		DB:       fmt.Sprintf("docplat_cluster_%d_%d", os.Getpid(), time.Now().Unix()%100000),
		Password: fmt.Sprintf("cluster-%x", rand.Uint64()), mysql: "127.0.0.1:3306"}
	if opts.Replica {
		if opts.OwnMariaDB {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("localcluster: Replica and OwnMariaDB exclude each other (Replica's primary is the cluster's own)")
		}
		c.replica, c.mysql = true, fmt.Sprintf("127.0.0.1:%d", base+replicaPairOffset)
		extraEnv = append(extraEnv, "CLUSTER_REPLICA=1")
	}
	if opts.OwnMariaDB {
		if err := c.startMariaDB(ctx, base+mariadbOffset); err != nil {
			if c.mariadb != nil {
				c.stopMariaDB()
			}
			os.RemoveAll(dir)
			return nil, err
		}
	}
	c.env = append(os.Environ(), "CLUSTER_DIR="+dir, fmt.Sprintf("CLUSTER_BASE=%d", base),
		"CLUSTER_MYSQL_PORT="+strings.TrimPrefix(c.mysql, "127.0.0.1:"),
		"CLUSTER_DB="+c.DB, "CLUSTER_ADMIN_PASSWORD="+c.Password,
		fmt.Sprintf("NGINX_WORKER_CONNECTIONS=%d", workerConns), "DOCPLAT_LOG_LEVEL=warn")
	if opts.S3 {
		c.env = append(c.env, "CLUSTER_S3=1")
	}
	// CLUSTER_REDIS_CLUSTER=1 in the environment (cluster.sh's switch) has
	// the same effect, so that a whole suite runs in that shape.
	if opts.RedisCluster || os.Getenv("CLUSTER_REDIS_CLUSTER") == "1" {
		c.redisCluster = true
		c.env = append(c.env, "CLUSTER_REDIS_CLUSTER=1")
	}
	c.env = append(c.env, extraEnv...)
	log.Info("starting the cluster", "dir", dir, "base", base, "db", c.DB)
	start := time.Now()
	if out, err := c.script(ctx, "up"); err != nil {
		c.Stop()
		return nil, fmt.Errorf("cluster up: %w\n%s", err, out)
	}
	log.Info("cluster up", "took", time.Since(start).Round(time.Millisecond), "url", c.NginxURL())
	return c, nil
}

func (c *Cluster) script(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.Repo, "scripts", "cluster.sh"), args...)
	cmd.Env = c.env
	cmd.Dir = c.Repo
	return cmd.CombinedOutput()
}

// Stop runs `scripts/cluster.sh down` (it stops every process by its PID),
// drops the run's databases and removes the directory.
func (c *Cluster) Stop() {
	if out, err := c.script(context.Background(), "down"); err != nil {
		c.log.Warn("cluster down", "err", err, "out", string(out))
	}
	if c.mariadb != nil {
		c.stopMariaDB() // its datadir goes with Dir
	} else if c.replica {
		// cluster.sh down stopped the pair; its datadirs go with Dir.
	} else if db, err := sql.Open("mysql", MySQLRoot); err == nil {
		for _, name := range []string{c.DB, c.DB + "_stats"} {
			if _, err := db.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
				c.log.Warn("dropping the run's database", "db", name, "err", err)
			}
		}
		db.Close()
	}
	if os.Getenv("DOCPLAT_BENCH_KEEP") == "" && os.Getenv("DOCPLAT_E2E_KEEP") == "" {
		os.RemoveAll(c.Dir)
	}
}

// NginxURL is the cluster's public entry.
func (c *Cluster) NginxURL() string { return fmt.Sprintf("http://127.0.0.1:%d", c.Base) }

// AppURL is app instance i (1..3), bypassing nginx.
func (c *Cluster) AppURL(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", c.Base+10+i) }

// RedisAddr is Redis node i (1..3); node 1 holds L2 and the hot set
// unless they are on a Redis Cluster (RedisClusterAddrs).
func (c *Cluster) RedisAddr(i int) string { return fmt.Sprintf("127.0.0.1:%d", c.Base+30+i) }

// RedisClusterAddrs are the Redis Cluster's nodes (Options.RedisCluster;
// cluster.sh puts them on Base+43..48), else nil.
func (c *Cluster) RedisClusterAddrs() []string {
	if !c.redisCluster {
		return nil
	}
	var out []string
	for i := 43; i <= 48; i++ {
		out = append(out, fmt.Sprintf("127.0.0.1:%d", c.Base+i))
	}
	return out
}

// l2Env is how an app finds L2: Redis node 1 or the Redis Cluster.
func (c *Cluster) l2Env() string {
	if c.redisCluster {
		return "DOCPLAT_REDIS_CLUSTER_ADDRS=" + strings.Join(c.RedisClusterAddrs(), ",")
	}
	return "DOCPLAT_REDIS_ADDR=" + c.RedisAddr(1)
}

// DSN is the cluster's application database.
func (c *Cluster) DSN() string { return "root@tcp(" + c.mysql + ")/" + c.DB }

// replicaPairOffset is Options.Replica's primary port, CLUSTER_BASE+21
// (cluster.sh; the replica is on +22).
const replicaPairOffset = 21

// ReplicaDSN is the application database on the cluster's replica
// (Options.Replica), "" without one.
func (c *Cluster) ReplicaDSN() string {
	if !c.replica {
		return ""
	}
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", c.Base+replicaPairOffset+1, c.DB)
}

// MariaDBPid is the PID of the cluster's own MariaDB server, 0 when it
// uses the machine's shared one.
func (c *Cluster) MariaDBPid() int {
	if c.mariadb == nil {
		return 0
	}
	return c.mariadb.Process.Pid
}

// StaticDir is the directory nginx serves under /_bench/static/, made
// readable by nginx's workers.
func (c *Cluster) StaticDir() (string, error) {
	static := filepath.Join(c.Dir, "nginx", "static")
	if err := os.MkdirAll(static, 0o755); err != nil {
		return "", err
	}
	// The prefix is rendered 0750 and the workers run as nobody.
	for _, d := range []string{filepath.Dir(static), static} {
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
	}
	return static, nil
}

// App is an app instance started beside the cluster's.
type App struct {
	URL string
	cmd *exec.Cmd
}

// StartApp runs one more `docplat serve` on the cluster's stores, with the
// same settings as cluster.sh gives its apps plus extraEnv (the suite runs
// one with DOCPLAT_CACHE_L1_MB=0 to measure L2 hits). Stop it with Stop.
func (c *Cluster) StartApp(ctx context.Context, port int, extraEnv ...string) (*App, error) {
	secrets, err := readEnvFile(filepath.Join(c.Dir, "secrets.env"))
	if err != nil {
		return nil, err
	}
	if s3, err := readEnvFile(filepath.Join(c.Dir, "blob.env")); err == nil { // CLUSTER_S3=1
		secrets = append(secrets, s3...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(filepath.Join(c.Dir, "docplat"), "serve", "--addr", addr)
	cmd.Env = append(append(append(c.env, secrets...),
		"DOCPLAT_MYSQL_DSN="+c.DSN(),
		"DOCPLAT_STATS_MYSQL_DSN="+c.DSN()+"_stats",
		"DOCPLAT_DATA_DIR="+filepath.Join(c.Dir, "data"),
		c.l2Env(),
		"DOCPLAT_LOCK_REDIS_ADDRS="+strings.Join([]string{c.RedisAddr(1), c.RedisAddr(2), c.RedisAddr(3)}, ","),
		fmt.Sprintf("DOCPLAT_KAFKA_BROKERS=127.0.0.1:%d", c.Base+20),
		fmt.Sprintf("DOCPLAT_NGINX_ADMIN=http://127.0.0.1:%d", c.Base+1),
		fmt.Sprintf("DOCPLAT_STATS_URL=http://127.0.0.1:%d", c.Base+10),
		"DOCPLAT_TRUSTED_PROXIES=127.0.0.1", "DOCPLAT_LOG_FORMAT=text", "DOCPLAT_HOTSPOT_DETECTOR=false",
	), extraEnv...)
	if c.replica {
		cmd.Env = append(cmd.Env, "DOCPLAT_MYSQL_REPLICA_DSNS="+c.ReplicaDSN())
	}
	logf, err := os.Create(filepath.Join(c.Dir, "logs", fmt.Sprintf("bench-app-%d.log", port)))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	a := &App{URL: "http://" + addr, cmd: cmd}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(a.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				// Reap the process when it ends; Stop signals it by PID.
				return a, nil
			}
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("localcluster: app on %s exited: %v; end of %s:\n%s", addr, err, logf.Name(), logTail(logf.Name()))
		case <-ctx.Done():
			a.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			a.Stop()
			return nil, fmt.Errorf("localcluster: app on %s not ready in 30s; end of %s:\n%s", addr, logf.Name(), logTail(logf.Name()))
		}
	}
}

// Stop terminates the app by its PID and waits up to 10 s before killing it.
func (a *App) Stop() {
	if a == nil || a.cmd.Process == nil {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	for range 100 {
		if a.cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = a.cmd.Process.Kill()
}

func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.Contains(l, "=") && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// freeBase finds 50 consecutive free loopback ports below the kernel's
// ephemeral range: a port inside it can be taken at any moment as the
// local end of one of the cluster's own outgoing connections, and an app
// started later on it (StartApp) then fails to bind (seen in CI).
func freeBase() (int, error) {
	hi := ephemeralLow() - 50
	if hi <= 20000 {
		return 0, fmt.Errorf("localcluster: the ephemeral port range starts at %d, leaving no room for the cluster's ports above 20000", hi+50)
	}
	for range 200 {
		base := 20000 + rand.IntN((hi-20000)/100+1)*100
		ok := true
		for p := base; p < base+50 && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("localcluster: no 50 consecutive free ports in 20000..%d", hi+49)
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default 32768 where it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil || lo <= 0 {
		return 32768
	}
	return lo
}

// logTail is the end of a log file, for an error message: the file itself
// goes with the cluster's directory when the run ends.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Kill kills process name (app1, hotspot2, ...) with -9, by its PID.
func (c *Cluster) Kill(ctx context.Context, name string) error {
	if out, err := c.script(ctx, "kill", name); err != nil {
		return fmt.Errorf("cluster kill %s: %w\n%s", name, err, out)
	}
	return nil
}

// Secret is one of the secrets cluster.sh generated (secrets.env).
func (c *Cluster) Secret(name string) (string, error) {
	vars, err := readEnvFile(filepath.Join(c.Dir, "secrets.env"))
	if err != nil {
		return "", err
	}
	for _, v := range vars {
		if val, ok := strings.CutPrefix(v, name+"="); ok {
			return val, nil
		}
	}
	return "", fmt.Errorf("localcluster: no %s in secrets.env", name)
}

// Pid is the app's process id (the suite measures its CPU).
func (a *App) Pid() int { return a.cmd.Process.Pid }

// mariadbOffset is the own MariaDB's port: CLUSTER_BASE+5 (unused by
// cluster.sh's layout).
const mariadbOffset = 5

// startMariaDB initialises a datadir under Dir and runs mariadbd on port
// with the settings of the machine's server that matter to docplat
// (utf8mb4, skip-name-resolve, Mroonga and its functions), as root on
// 127.0.0.1 without a password like cluster.sh expects.
func (c *Cluster) startMariaDB(ctx context.Context, port int) error {
	data, sock := filepath.Join(c.Dir, "mariadb"), filepath.Join(c.Dir, "mariadb.sock")
	install := exec.CommandContext(ctx, "mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("localcluster: mariadb-install-db: %w\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(c.Dir, "mariadb.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("/usr/sbin/mariadbd", "--no-defaults", "--datadir="+data, "--socket="+sock,
		fmt.Sprintf("--port=%d", port), "--bind-address=127.0.0.1", "--user=root", "--skip-name-resolve",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci", "--skip-log-bin",
		"--max-connections=600")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("localcluster: mariadbd: %w", err)
	}
	c.mariadb = cmd
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	setup := "CREATE USER IF NOT EXISTS root@'127.0.0.1'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; "
	if b, err := os.ReadFile("/usr/share/mysql/mroonga/install.sql"); err == nil {
		setup += string(b) // the engine and its functions, as on the machine's server
	}
	for start := time.Now(); ; {
		client := exec.CommandContext(ctx, "mariadb", "--no-defaults", "-uroot", "--socket="+sock, "-e", setup)
		out, err := client.CombinedOutput()
		if err == nil {
			break
		}
		select {
		case <-exited:
			return fmt.Errorf("localcluster: mariadbd exited (log %s): %s", logf.Name(), out)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Since(start) > 60*time.Second {
			return fmt.Errorf("localcluster: mariadbd not ready in 60s (log %s): %s", logf.Name(), out)
		}
	}
	c.mysql = fmt.Sprintf("127.0.0.1:%d", port)
	c.log.Info("own MariaDB up", "addr", c.mysql, "pid", cmd.Process.Pid)
	return nil
}

// stopMariaDB stops the own server by its PID: TERM (a clean shutdown),
// KILL after 30 s.
func (c *Cluster) stopMariaDB() {
	p := c.mariadb.Process
	_ = p.Signal(syscall.SIGTERM)
	for range 300 {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = p.Kill()
}
