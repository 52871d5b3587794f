package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/sqlstore"
)

// BenchmarkUploadCommit measures the commit of a 10 KB upload (staging
// excluded) on MariaDB: through the three-phase commit across the document
// service and the stats service (their own databases), against the same
// upload committed in one local transaction, in the same run; p50/p99 in
// ms. "full-stack" adds what a real upload also does: cache invalidations
// around the commit.
//
//	go test -run '^$' -bench UploadCommit -benchtime 300x ./cmd/docplat
func BenchmarkUploadCommit(b *testing.B) {
	a := newTestApp(b, testdb.MariaDB)
	_, member := setupDepartment(a, "Bench", 0)
	var me struct {
		ID           string
		DepartmentID string `json:"department_id"`
	}
	member.doJSON("GET", "/api/v1/me", nil, 200, &me)
	actor := docs.Actor{UserID: me.ID, DepartmentID: me.DepartmentID}
	opt := docs.Options{Logger: a.log}
	variants := []struct {
		name string
		svc  *docs.Service
	}{
		{"baseline-local-tx", docs.NewService(localTxRepository{Store: a.db.Documents(), db: a.db, h: a.db.DocsParticipant(a.blobs)}, a.blobs, opt)},
		{"3pc", docs.NewService(docs.WithThreePhaseCommit(a.db.Documents(), a.coord, 0), a.blobs, opt)},
		{"full-stack", a.docs},
	}
	var seq atomic.Int64
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				content := fmt.Sprintf("%08d", seq.Add(1)) + strings.Repeat("u", 10<<10-8)
				st, err := v.svc.Stage(strings.NewReader(content), "bench.txt")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if _, err := v.svc.Create(context.Background(), actor, docs.NewDocument{}, st); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				st.Discard()
			}
			reportPercentiles(b, lat)
		})
	}
}

// localTxRepository is BenchmarkUploadCommit's baseline and nothing else's:
// an upload committed in one local transaction of the document database,
// the documents participant's prepare and commit back to back, without the
// coordinator, its log or the stats service. Only uploads are measured.
type localTxRepository struct {
	docs.Store
	db *sqlstore.DB
	h  *sqlstore.DocsParticipant
}

func (r localTxRepository) Create(ctx context.Context, d docs.Document, c docs.NewContent) error {
	v := c.Version
	payload, err := json.Marshal(docs.DocumentChange{Op: docs.OpCreate, Document: d, Version: &v, Text: c.Text, Staged: c.Staged})
	if err != nil {
		return err
	}
	return r.db.Gorm().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := r.h.Prepare(ctx, tx, "", payload); err != nil {
			return err
		}
		return r.h.Commit(ctx, tx, "", payload)
	})
}

var errBaselineUploadsOnly = errors.New("the local-transaction baseline measures uploads only")

func (localTxRepository) AddVersion(context.Context, string, func(docs.Document) error, docs.NewContent) (docs.Document, error) {
	return docs.Document{}, errBaselineUploadsOnly
}

func (localTxRepository) Delete(context.Context, string, func(docs.Document) error) error {
	return errBaselineUploadsOnly
}

func (localTxRepository) Trash(context.Context, string, func(docs.Document) error, docs.TrashMark) error {
	return errBaselineUploadsOnly
}

func (localTxRepository) Restore(context.Context, string, func(docs.Document) error) (docs.Document, error) {
	return docs.Document{}, errBaselineUploadsOnly
}

// BenchmarkThreePhaseThroughput runs small (100 B) uploads through the
// three-phase commit from 32 goroutines: transactions per second with the
// coordinator and both participants on MariaDB.
func BenchmarkThreePhaseThroughput(b *testing.B) {
	a := newTestApp(b, testdb.MariaDB)
	_, member := setupDepartment(a, "Throughput", 0)
	var me struct {
		ID           string
		DepartmentID string `json:"department_id"`
	}
	member.doJSON("GET", "/api/v1/me", nil, 200, &me)
	actor := docs.Actor{UserID: me.ID, DepartmentID: me.DepartmentID}
	svc := docs.NewService(docs.WithThreePhaseCommit(a.db.Documents(), a.coord, 0), a.blobs, docs.Options{Logger: a.log})
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st, err := svc.Stage(strings.NewReader(fmt.Sprintf("%0100d", seq.Add(1))), "small.txt")
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := svc.Create(context.Background(), actor, docs.NewDocument{}, st); err != nil {
				b.Error(err)
				return
			}
			st.Discard()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
