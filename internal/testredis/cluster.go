package testredis

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeTimeout is the clusters' cluster-node-timeout: a master that does not
// answer for this long is failed over to its replica (about twice this in
// all, with the election).
const NodeTimeout = time.Second

// clusterArgs are what scripts/redis-cluster.sh passes too. Partial
// coverage: while one shard has no master the others keep answering.
var clusterArgs = []string{
	"--cluster-enabled", "yes",
	"--cluster-config-file", "nodes.conf",
	"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout / time.Millisecond)),
	"--cluster-require-full-coverage", "no",
	"--repl-diskless-sync-delay", "0", // a rejoining replica syncs at once
}

// Cluster is a Redis Cluster of real redis-server processes.
type Cluster struct {
	Nodes []*Node // every process, masters and replicas, in start order
}

// StartCluster starts masters*(1+replicasPer) cluster-enabled redis-servers
// on free loopback ports, joins them with `redis-cli --cluster create
// --cluster-replicas replicasPer`, waits until every node sees all slots
// served and every replica's link up, and stops them all in t.Cleanup.
func StartCluster(t testing.TB, masters, replicasPer int) *Cluster {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("testredis: redis-cli not found in PATH (it comes with redis-server: apt-get install redis-tools): %v", err)
	}
	c := &Cluster{}
	n := masters * (1 + replicasPer)
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		var failures []string
		var node *Node
		for attempt := 1; attempt <= maxAttempts && node == nil; attempt++ {
			nd, err := startClusterNode(bin, dir)
			if err != nil {
				failures = append(failures, fmt.Sprintf("attempt %d: %v", attempt, err))
				continue
			}
			node = nd
		}
		if node == nil {
			t.Fatalf("testredis: cluster node %d/%d did not come up after %d attempts:\n%s",
				i+1, n, maxAttempts, strings.Join(failures, "\n"))
		}
		t.Cleanup(node.Stop)
		c.Nodes = append(c.Nodes, node)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicasPer), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testredis: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(masters, replicasPer, 30*time.Second); err != nil {
		t.Fatalf("testredis: %v", err)
	}
	return c
}

// startClusterNode is startNode with the cluster settings and a cluster
// bus port of its own (not port+10000, which may be anyone's).
func startClusterNode(bin, dir string) (*Node, error) {
	bus, err := freePort()
	if err != nil {
		return nil, err
	}
	return startNodeOn(bin, dir, append(clusterArgs, "--cluster-port", strconv.Itoa(bus)), pickPort)
}

// Addrs are every node's host:port (seed addresses for a cluster client).
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// Node returns the process listening on addr, or nil.
func (c *Cluster) Node(addr string) *Node {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// MasterFor is the running node that serves key's slot as master now, and
// its replicas.
func (c *Cluster) MasterFor(key string) (master *Node, replicas []*Node, err error) {
	slot := Slot(key)
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
		info, ierr := rdb.Do(context.Background(), "CLUSTER", "SHARDS").Slice()
		rdb.Close()
		if ierr != nil {
			err = ierr
			continue
		}
		for _, sh := range info {
			m := kv(sh)
			if !slotsCover(m["slots"], slot) {
				continue
			}
			nodes, _ := m["nodes"].([]any)
			for _, raw := range nodes {
				nd := kv(raw)
				addr := fmt.Sprintf("%v:%v", nd["ip"], nd["port"])
				proc := c.Node(addr)
				if proc == nil || nd["health"] == "fail" {
					continue
				}
				if nd["role"] == "master" {
					master = proc
				} else {
					replicas = append(replicas, proc)
				}
			}
			if master != nil {
				return master, replicas, nil
			}
		}
	}
	if err == nil {
		err = fmt.Errorf("no running node serves slot %d as master", slot)
	}
	return nil, nil, err
}

func kv(v any) map[string]any {
	m := map[string]any{}
	switch x := v.(type) {
	case map[any]any:
		for k, v := range x {
			m[fmt.Sprint(k)] = v
		}
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			m[fmt.Sprint(x[i])] = x[i+1]
		}
	}
	return m
}

func slotsCover(v any, slot int) bool {
	r, _ := v.([]any)
	for i := 0; i+1 < len(r); i += 2 {
		lo, _ := r[i].(int64)
		hi, _ := r[i+1].(int64)
		if int64(slot) >= lo && int64(slot) <= hi {
			return true
		}
	}
	return false
}

// WaitHealthy waits until every running node reports cluster_state:ok with
// all 16384 slots served, the cluster has `masters` masters among the
// running nodes, and each of them has at least `replicasPer` replicas whose
// link is up.
func (c *Cluster) WaitHealthy(masters, replicasPer int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if last = c.healthy(masters, replicasPer); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not healthy within %v: %v", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) healthy(masters, replicasPer int) error {
	ctx := context.Background()
	nMasters := 0
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
		ci, err := rdb.ClusterInfo(ctx).Result()
		var repl string
		if err == nil {
			repl, err = rdb.Info(ctx, "replication").Result()
		}
		rdb.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", n.Addr(), err)
		}
		if !strings.Contains(ci, "cluster_state:ok") || !strings.Contains(ci, "cluster_slots_ok:16384") {
			return fmt.Errorf("%s: cluster state not ok", n.Addr())
		}
		if strings.Contains(repl, "role:master") {
			// Online replicas only: one still syncing does not answer WAIT.
			if got := strings.Count(repl, "state=online"); got < replicasPer {
				return fmt.Errorf("%s: master with %d replicas, want %d", n.Addr(), got, replicasPer)
			}
			// And streaming: right after a sync a replica is "online" but
			// the master streams to it only after its first ACK (up to a
			// second), so probe with a write and WAIT.
			if replicasPer > 0 {
				if err := probeWait(n.Addr(), replicasPer); err != nil {
					return err
				}
			}
			nMasters++
		} else if !strings.Contains(repl, "master_link_status:up") {
			return fmt.Errorf("%s: replica link not up", n.Addr())
		}
	}
	if nMasters != masters {
		return fmt.Errorf("%d masters with their replicas, want %d", nMasters, masters)
	}
	return nil
}

func infoInt(info, field string) int {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}

// Slot is Redis Cluster's hash slot of key (CRC16 of its hash tag or of
// the whole key, mod 16384).
func Slot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// probeWait writes a key of addr's slots and WAITs for replicas to have it.
func probeWait(addr string, replicas int) error {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer rdb.Close()
	for i := range 200 {
		var wait *redis.Cmd
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, fmt.Sprintf("testredis:probe:%d", i), "1", time.Minute)
			wait = p.Do(ctx, "WAIT", replicas, 200)
			return nil
		})
		if err != nil && strings.HasPrefix(err.Error(), "MOVED") {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: probe: %v", addr, err)
		}
		if got, _ := wait.Int64(); got < int64(replicas) {
			return fmt.Errorf("%s: %d of %d replicas acknowledge a write", addr, got, replicas)
		}
		return nil
	}
	return fmt.Errorf("%s: owns no slot", addr)
}
