package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"docplat/docs"
	"docplat/hotspot"
	"docplat/nginx"
	"docplat/shares"
)

// wireHot builds the hot-document path's shared pieces: the hot set (in the
// L2 Redis), the nginx hot tiers this instance drives, and the read-token
// secret they share with it.
func (a *app) wireHot(context.Context) error {
	a.hotSet = hotspot.NewHotSet(a.redis.L2, "docplat:hot")
	a.edges, a.hitSources = a.cfg.Hot.Edges(a.cfg.InternalSecret)
	a.readTokenSecret = []byte(a.cfg.Hot.ReadTokenSecret)
	if len(a.readTokenSecret) == 0 {
		a.readTokenSecret = make([]byte, 32)
		_, _ = rand.Read(a.readTokenSecret)
		if len(a.edges) > 0 {
			a.log.Warn("no read-token secret: nginx cannot check this instance's read tokens; set DOCPLAT_READ_TOKEN_SECRET as in nginx's configuration")
		}
	}
	if len(a.edges) > 0 {
		a.log.Info("nginx hot tier", "admins", a.cfg.Hot.Admins)
	}
	return nil
}

// shareEdges are the nginx hot tiers as the share links drive them.
func (a *app) shareEdges() []shares.Edge {
	var out []shares.Edge
	for _, e := range a.edges {
		if n, ok := e.(nginx.Edge); ok {
			out = append(out, n.Client)
		}
	}
	return out
}

// edgePurger is what writers purge through; nil without a hot tier.
func (a *app) edgePurger() docs.Edge {
	if len(a.edges) == 0 {
		return nil
	}
	return hotspot.EdgePurger{HotSet: a.hotSet, Edges: a.edges}
}

// hotJobs are the hot path's background jobs: the promoter (pre-warms L1
// and keeps every nginx equal to the hot set), the pre-warmer (promotes
// scheduled documents ahead of their lecture), the nginx hit forwarder
// (through the read aggregator: a hot document's hits cross its burst count
// and go out at once, a trickle waits for the window) and, unless separate
// `docplat hotspot` processes run, the detector.
func (a *app) hotJobs(ctx context.Context) []func() {
	source := docs.NewHotSource(a.db.Documents(), a.blobs, a.cfg.Hot.MaxEntryBytes)
	pw := hotspot.NewPrewarmer(hotspot.PrewarmerConfig{PrewarmOptions: a.cfg.Prewarm, HotSet: a.hotSet, Schedule: source,
		Instance: a.cfg.instanceName(), Logger: a.log, Registerer: a.reg})
	p := hotspot.NewPromoter(hotspot.PromoterConfig{HotSet: a.hotSet, Edges: a.edges, Source: source, Instance: a.cfg.instanceName(),
		Warm: func(ctx context.Context, id string) {
			_, _ = a.docs.GetSystem(ctx, id) // fills L1 (and L2)
		}, Logger: a.log, Registerer: a.reg})
	jobs := []func(){func() { p.Run(ctx) }, func() { pw.Run(ctx) }}
	// Registered without an edge too (at 0), so that the dashboard's hot
	// tier share reads the same series everywhere.
	hits, err := hotspot.NewEdgeHitsCounter(a.reg)
	if err != nil {
		a.log.Error("registering the edge hits counter", "err", err)
	}
	if len(a.hitSources) > 0 {
		jobs = append(jobs, func() {
			hotspot.ForwardHits(ctx, a.hitSources, a.stream.Reads, "nginx", 250*time.Millisecond, hits, a.log)
		})
	}
	if a.cfg.HotDetector {
		jobs = append(jobs, func() {
			d := hotspot.ConsumerOptions{Runner: a.cfg.Detector, Brokers: a.stream.Brokers, Topic: a.stream.Topic, SessionTimeout: a.cfg.Counting.SessionTimeout}
			if err := hotspot.RunDetector(ctx, d, a.hotSet, a.reg, a.log); err != nil {
				a.log.Error("hot-document detector stopped", "err", err)
			}
		})
	}
	return jobs
}

// instanceName names this process in access events and leases.
func (c *config) instanceName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), c.Addr)
}
