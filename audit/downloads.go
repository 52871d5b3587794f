package audit

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"docplat/events"
)

// Reads of non-public documents are recorded from the access stream, not
// on the read path: a read publishes an events.Access carrying its
// events.Reader (docs.Service.RecordContentRead), and the consumer below
// writes document.download entries in batches, one per event (an event
// sums a reader's reads of a document within the aggregation window; its
// detail says how many). It runs among every app instance's background
// jobs in one consumer group, so each event is recorded by one of them,
// and it stores its position in each partition in the same transaction as
// the entries: a batch redelivered after a crash is recorded once.

// DefaultDownloadsGroup is the download consumer's Kafka consumer group.
const DefaultDownloadsGroup = "docplat-audit"

// DownloadsConfig configures ConsumeDownloads.
type DownloadsConfig struct {
	Brokers []string
	Topic   string
	Group   string // default DefaultDownloadsGroup
	// SessionTimeout of the consumer group (default 10s).
	SessionTimeout time.Duration
	Logger         *slog.Logger
}

type positionRow struct {
	Topic      string `gorm:"primaryKey"`
	Part       int32  `gorm:"primaryKey"`
	NextOffset int64
}

func (positionRow) TableName() string { return "audit_stream_positions" }

// ConsumeDownloads records the audited reads of the access topic in db
// until ctx ends.
func ConsumeDownloads(ctx context.Context, db *gorm.DB, cfg DownloadsConfig) {
	if cfg.Group == "" {
		cfg.Group = DefaultDownloadsGroup
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d := NewDownloads(db, cfg.Topic)
	c, err := events.NewConsumer(events.ConsumerConfig{
		Brokers: cfg.Brokers, Topic: cfg.Topic, Group: cfg.Group, SessionTimeout: cfg.SessionTimeout, Logger: cfg.Logger,
		Handler:      d.Record,
		StartOffsets: d.Positions,
	})
	if err != nil {
		cfg.Logger.Error("the audit log cannot consume the access stream: downloads are not recorded", "err", err)
		return
	}
	cfg.Logger.Info("audit log consuming downloads", "topic", cfg.Topic, "group", cfg.Group)
	c.Run(ctx)
}

// Downloads records the audited reads of one access topic's partitions.
type Downloads struct {
	db    *gorm.DB
	topic string
}

// NewDownloads returns the recorder of topic's audited reads into db.
func NewDownloads(db *gorm.DB, topic string) *Downloads { return &Downloads{db: db, topic: topic} }

// DownloadEntry is the entry of an audited read (false for a read the
// audit log does not record: no reader, or a public document read other
// than through a share link). A share link's download is share.download
// with the share as target; the others are document.download.
func DownloadEntry(a events.Access) (Entry, bool) {
	r := a.Reader
	if r == nil || (r.Visibility == "public" && r.ShareID == "") {
		return Entry{}, false
	}
	detail := map[string]any{"kind": a.Kind, "bytes": a.Bytes, "visibility": r.Visibility}
	if a.N() > 1 {
		detail["count"] = a.N()
	}
	e := Entry{At: a.At, ActorID: r.ActorID, IP: r.IP, Action: DocumentDownload, Target: a.DocumentID, DepartmentID: r.DepartmentID, Detail: detail}
	if r.ShareID != "" {
		e.Action, e.Target, detail["document_id"] = ShareDownload, r.ShareID, a.DocumentID
	}
	return e, true
}

// Record writes a batch's entries and the partition's next position in
// one transaction, skipping records before the stored position (a batch
// recorded whose Kafka commit was lost).
func (d *Downloads) Record(ctx context.Context, part int32, recs []events.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return d.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx
		if tx.Dialector.Name() == "mysql" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var pos positionRow
		err := q.Where("topic = ? AND part = ?", d.topic, part).Take(&pos).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var entries []Entry
		next := pos.NextOffset
		for _, r := range recs {
			if r.Offset < pos.NextOffset {
				continue
			}
			if e, ok := DownloadEntry(r.Access); ok {
				entries = append(entries, e)
			}
			next = max(next, r.Offset+1)
		}
		if next == pos.NextOffset {
			return nil
		}
		if err := RecordAll(tx, entries); err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "topic"}, {Name: "part"}},
			DoUpdates: clause.AssignmentColumns([]string{"next_offset"}),
		}).Create(&positionRow{Topic: d.topic, Part: part, NextOffset: next}).Error
	})
}

// Positions are where to resume the partitions: the stored positions
// (the others resume from the group's committed offset).
func (d *Downloads) Positions(ctx context.Context, parts []int32) (map[int32]int64, error) {
	var rows []positionRow
	if err := d.db.WithContext(ctx).Where("topic = ? AND part IN ?", d.topic, parts).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(rows))
	for _, r := range rows {
		out[r.Part] = r.NextOffset
	}
	return out, nil
}
