package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/docs"
	"docplat/events"
	"docplat/hotspot"
	"docplat/nginx"
	"docplat/server"
)

// detectorGroup is the consumer group of the hot-document detectors.
const detectorGroup = "docplat-hotspot"

// wireHot builds the hot-document path's shared pieces: the hot set (in the
// L2 Redis), the nginx hot tiers this instance drives, and the read-token
// secret they share with it.
func (a *app) wireHot() error {
	a.hotSet = hotspot.NewHotSet(a.rdb, "docplat:hot")
	for _, admin := range a.cfg.nginxAdmins() {
		e := nginxEdge{c: &nginx.Client{Admin: admin, Secret: a.cfg.InternalSecret}}
		a.edges = append(a.edges, e)
		a.hitSources = append(a.hitSources, e)
	}
	a.readTokenSecret = []byte(a.cfg.ReadTokenSecret)
	if len(a.readTokenSecret) == 0 {
		a.readTokenSecret = make([]byte, 32)
		_, _ = rand.Read(a.readTokenSecret)
		if len(a.edges) > 0 {
			a.log.Warn("no read-token secret: nginx cannot check this instance's read tokens; set DOCPLAT_READ_TOKEN_SECRET as in nginx's configuration")
		}
	}
	if len(a.edges) > 0 {
		a.log.Info("nginx hot tier", "admins", a.cfg.nginxAdmins())
	}
	return nil
}

// edgePurger is what writers purge through; nil without a hot tier.
func (a *app) edgePurger() docs.Edge {
	if len(a.edges) == 0 {
		return nil
	}
	return hotspot.EdgePurger{HotSet: a.hotSet, Edges: a.edges}
}

// runHot starts the hot path's background jobs: the promoter (pre-warms L1
// and keeps every nginx equal to the hot set), the nginx hit forwarder
// (through the read aggregator: a hot document's hits cross its burst count
// and go out at once, a trickle waits for the window) and,
// unless separate `docplat hotspot` processes run, the detector.
func (a *app) runHot(ctx context.Context, reg prometheus.Registerer) []func() {
	p := hotspot.NewPromoter(hotspot.PromoterConfig{HotSet: a.hotSet, Edges: a.edges, Source: hotSource{a}, Instance: a.cfg.instanceName(),
		Warm: func(ctx context.Context, id string) {
			_, _ = a.docs.Get(ctx, docs.Actor{Admin: true}, id) // fills L1 (and L2)
		}, Logger: a.log, Registerer: reg})
	jobs := []func(){func() { p.Run(ctx) }}
	if len(a.hitSources) > 0 {
		jobs = append(jobs, func() { hotspot.ForwardHits(ctx, a.hitSources, a.reads, "nginx", 250*time.Millisecond, a.log) })
	}
	if a.cfg.HotDetector {
		jobs = append(jobs, func() {
			d := detectorOptions{Runner: a.cfg.Detector, Brokers: a.brokers, Topic: a.cfg.Access.Topic, SessionTimeout: a.cfg.Counting.SessionTimeout}
			if err := runDetector(ctx, d, a.hotSet, reg, a.log); err != nil {
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

// hotLister answers GET /api/v1/stats/hot.
func (a *app) hotLister(ctx context.Context) ([]server.HotDocument, error) {
	entries, err := a.hotSet.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]server.HotDocument, len(entries))
	for i, e := range entries {
		out[i] = server.HotDocument{DocumentID: e.ID, RatePerSec: e.RatePerSec, Since: e.Since}
	}
	return out, nil
}

// hotSource reads a hot document for the edge from the source of truth
// (the database and the blob store, never a cache: see hotspot.Promoter).
type hotSource struct{ a *app }

func (s hotSource) HotRevision(ctx context.Context, id string) (int, error) {
	d, err := s.row(ctx, id)
	return d.Revision, err
}

// row is the document's row, or ErrNotPromotable when the edge must not
// hold it (gone, or larger than the hot tier takes).
func (s hotSource) row(ctx context.Context, id string) (docs.Document, error) {
	d, err := s.a.db.Documents().Get(ctx, id)
	if errors.Is(err, docs.ErrNotFound) {
		return docs.Document{}, hotspot.ErrNotPromotable
	}
	if err != nil {
		return docs.Document{}, err
	}
	if d.Size > s.a.cfg.HotMaxBytes {
		return docs.Document{}, hotspot.ErrNotPromotable
	}
	return d, nil
}

func (s hotSource) HotContent(ctx context.Context, id string) (hotspot.Content, error) {
	d, err := s.row(ctx, id)
	if err != nil {
		return hotspot.Content{}, err
	}
	f, err := s.a.blobs.Open(d.SHA256)
	if err != nil {
		return hotspot.Content{}, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, d.Size+1))
	if err != nil {
		return hotspot.Content{}, err
	}
	if int64(len(body)) != d.Size {
		return hotspot.Content{}, fmt.Errorf("blob %s of document %s has %d bytes, the row says %d", d.SHA256, id, len(body), d.Size)
	}
	return hotspot.Content{ID: d.ID, Rev: d.Revision, Version: d.Version, ETag: `"` + d.SHA256 + `"`, ContentType: d.Mime,
		LastModified: d.UpdatedAt, Filename: d.Filename, Visibility: string(d.Visibility), Body: body}, nil
}

// nginxEdge adapts nginx.Client to the hot path's Edge and HitSource.
type nginxEdge struct{ c *nginx.Client }

func (e nginxEdge) Name() string { return e.c.Admin }

func (e nginxEdge) Push(ctx context.Context, c hotspot.Content) error {
	err := e.c.Push(ctx, nginx.Entry{ID: c.ID, Rev: int64(c.Rev), Version: c.Version, ETag: c.ETag, ContentType: c.ContentType,
		LastModified: c.LastModified, Filename: c.Filename, Visibility: c.Visibility, Body: c.Body})
	if errors.Is(err, nginx.ErrStale) {
		return hotspot.ErrStale
	}
	return err
}

func (e nginxEdge) Purge(ctx context.Context, id string, rev int) error {
	return e.c.Purge(ctx, id, int64(rev))
}

func (e nginxEdge) List(ctx context.Context) ([]hotspot.EdgeEntry, error) {
	listed, err := e.c.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]hotspot.EdgeEntry, len(listed))
	for i, l := range listed {
		out[i] = hotspot.EdgeEntry{ID: l.ID, Rev: int(l.Rev)}
	}
	return out, nil
}

func (e nginxEdge) DrainHits(ctx context.Context) ([]hotspot.Hit, error) {
	hits, err := e.c.DrainHits(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]hotspot.Hit, len(hits))
	for i, h := range hits {
		out[i] = hotspot.Hit{DocumentID: h.DocumentID, Kind: h.Kind, Count: h.Count, Bytes: h.Bytes}
	}
	return out, nil
}

// runDetector is one hot-document detector: a member of the detector
// consumer group whose partitions it watches, until ctx ends.
func runDetector(ctx context.Context, d detectorOptions, hot *hotspot.HotSet, reg prometheus.Registerer, log *slog.Logger) error {
	rc := d.Runner
	rc.HotSet, rc.Registerer, rc.Logger = hot, reg, log
	runner, err := hotspot.NewRunner(rc)
	if err != nil {
		return err
	}
	consumer, err := events.NewConsumer(events.ConsumerConfig{Brokers: d.Brokers, Topic: d.Topic, Group: detectorGroup,
		Handler: runner.Handle, OnAssigned: runner.Assigned, OnRevoked: runner.Revoked, SessionTimeout: d.SessionTimeout,
		// A lost batch only delays a promotion: never hold the partition up.
		RetryBackoff: 100 * time.Millisecond, Logger: log})
	if err != nil {
		return err
	}
	go runner.Run(ctx)
	log.Info("hot-document detector running", "group", detectorGroup, "hot_rate", rc.Detector.HotRate, "cool_rate", rc.Detector.CoolRate, "window", rc.Detector.Window)
	consumer.Run(ctx)
	return nil
}
