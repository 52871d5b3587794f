// Package redisnodes connects one docplat instance to its Redis servers:
// the node (or Redis Cluster) holding the shared L2 cache, its
// invalidations and the hot set, and the independent Redlock nodes of the
// write lock. With none configured it starts embedded Redis-protocol
// servers in this process (the embedded mode), and says so.
//
// The Redlock nodes never live in the cluster: Redlock's safety rests on a
// majority of nodes that fail independently and do not replicate to one
// another, while a cluster shard is one master with asynchronous replicas
// (a lock acknowledged by a master and lost in its failover would be held
// twice).
package redisnodes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"docplat/internal/envflag"
	"docplat/redisembed"
)

// Options is where the Redis servers are; empty: embedded ones.
type Options struct {
	Addr         string   // the L2 node, host:port
	ClusterAddrs []string // or seed nodes of a Redis Cluster holding L2
	// WaitReplicas: on a cluster, how many replicas must have an
	// invalidation before it counts as recorded (WAIT); 0 accepts the
	// failover window instead.
	WaitReplicas int
	LockAddrs    []string // the Redlock nodes, 3 or more in production
}

// Bind declares the nodes' flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.String(&o.Addr, "redis-addr", "", "Redis for the shared L2 cache and invalidations, host:port; empty starts embedded Redis servers (one instance only)")
	b.List(&o.ClusterAddrs, "redis-cluster-addrs", "", "", "comma-separated seed nodes (host:port) of a Redis Cluster for the shared L2 cache, invalidations and hot set, instead of --redis-addr")
	b.Int(&o.WaitReplicas, "redis-cluster-wait-replicas", 1, "with --redis-cluster-addrs: replicas that must confirm a cache invalidation (WAIT) before a write is acknowledged, so a master failover cannot lose it; 0 accepts that window (clusters without replicas)")
	b.List(&o.LockAddrs, "lock-redis-addrs", "", "", "comma-separated independent Redis nodes for Redlock (never the cluster's), at least 3 in production; required with --redis-addr or --redis-cluster-addrs")
}

// Shared tells that L2 is a Redis server (or cluster) other processes can
// reach, not embedded in this one.
func (o Options) Shared() bool { return o.Addr != "" || len(o.ClusterAddrs) > 0 }

// Validate reports a configuration that shares one of cache and lock
// between instances without the other.
func (o Options) Validate() error {
	var errs []error
	shared := o.Shared()
	if o.Addr != "" && len(o.ClusterAddrs) > 0 {
		errs = append(errs, errors.New("Addr and ClusterAddrs exclude each other: L2 is one Redis node or one Redis Cluster"))
	}
	if shared && len(o.LockAddrs) == 0 {
		errs = append(errs, errors.New("LockAddrs must list the Redlock nodes (3 or more independent Redis servers, not the cluster's) when redis-addr or redis-cluster-addrs is set"))
	}
	if !shared && len(o.LockAddrs) > 0 {
		errs = append(errs, errors.New("LockAddrs needs redis-addr or redis-cluster-addrs: the lock and the cache it protects must be shared by the same instances"))
	}
	for _, a := range o.ClusterAddrs {
		for _, l := range o.LockAddrs {
			if a == l {
				errs = append(errs, fmt.Errorf("LockAddrs: %s is a cluster node; Redlock needs independent nodes", l))
			}
		}
	}
	if o.WaitReplicas < 0 {
		errs = append(errs, errors.New("WaitReplicas must be 0 or more"))
	}
	return errors.Join(errs...)
}

// Nodes is an open connection to the L2 node and the lock nodes'
// addresses.
type Nodes struct {
	L2 redis.UniversalClient // a *redis.ClusterClient on a cluster
	// WaitReplicas is Options.WaitReplicas on a cluster, else 0.
	WaitReplicas int
	LockAddrs    []string
	embedded     []*redisembed.Server
}

// Open connects to the configured nodes, or starts four embedded servers
// (one for L2, three Redlock nodes). shared tells that other instances may
// run against the same database, which embedded nodes cannot serve.
func Open(o Options, shared bool, log *slog.Logger) (*Nodes, error) {
	n := &Nodes{LockAddrs: o.LockAddrs}
	addr := o.Addr
	if addr == "" && len(o.ClusterAddrs) == 0 {
		var addrs []string
		for range 4 {
			s, err := redisembed.Start()
			if err != nil {
				n.Close()
				return nil, err
			}
			n.embedded = append(n.embedded, s)
			addrs = append(addrs, s.Addr())
		}
		addr, n.LockAddrs = addrs[0], addrs[1:]
		msg := "embedded Redis: L2 cache and 3 lock nodes run in this process; set DOCPLAT_REDIS_ADDR and DOCPLAT_LOCK_REDIS_ADDRS to share them between instances"
		if shared {
			log.Warn(msg + " (run only ONE instance against this database, or caches will disagree)")
		} else {
			log.Info(msg)
		}
	}
	if len(n.LockAddrs) < 3 {
		log.Warn("fewer than 3 Redlock nodes: a single node failure stops all writes", "nodes", len(n.LockAddrs))
	}
	redis.SetLogger(logger{log})
	// Short timeouts and one retry: a slow Redis degrades to the database
	// (the cache's breaker), it never holds a request.
	if len(o.ClusterAddrs) > 0 {
		// Reads go to masters only (ReadOnly off): a replica lags
		// asynchronously and could answer with an entry its master has
		// already tombstoned.
		n.L2 = redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.ClusterAddrs, DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, PoolSize: 128, MaxRetries: 1,
			DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
		n.WaitReplicas = o.WaitReplicas
		log.Info("L2 cache on a Redis Cluster", "seeds", o.ClusterAddrs, "wait_replicas", o.WaitReplicas)
		return n, nil
	}
	n.L2 = redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, PoolSize: 128, MaxRetries: 1,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	return n, nil
}

// Close closes the client and stops the embedded servers.
func (n *Nodes) Close() error {
	var err error
	if n.L2 != nil {
		err = n.L2.Close()
	}
	for _, s := range n.embedded {
		s.Close()
	}
	return err
}

// logger sends go-redis's own messages (reconnects, dial failures) to
// slog, so that they reach the JSON log instead of bare stderr.
type logger struct{ log *slog.Logger }

func (l logger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
