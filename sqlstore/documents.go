package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"docplat/audit"
	"docplat/docs"
)

type documentRow struct {
	ID           string
	Title        string
	Description  string
	Visibility   string
	OwnerID      string
	DepartmentID *string
	Filename     string
	Version      int
	Revision     int
	Size         int64
	Mime         string
	SHA256       string `gorm:"column:sha256"`
	Views        int64
	Downloads    int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	TextState    string
	TextStateAt  *time.Time
	TextError    string
	// PreviewState, PreviewStateAt, PreviewError: the sweep's bookkeeping
	// of the previews (docs.PreviewState), not part of docs.Document.
	PreviewState   string
	PreviewStateAt *time.Time
	PreviewError   string
	DeletedAt      *time.Time
	DeletedBy      *string
	PurgeAt        *time.Time
	PublishAt      *time.Time
	LectureAt      *time.Time
}

func (documentRow) TableName() string { return "documents" }

// textStateOr is a change's text state; empty (a change recorded before
// text was extracted off the request path) is ready.
func textStateOr(s docs.TextState) docs.TextState {
	if s == "" {
		return docs.TextReady
	}
	return s
}

func toDocumentRow(d docs.Document) documentRow {
	return documentRow{ID: d.ID, Title: d.Title, Description: d.Description, Visibility: string(d.Visibility),
		OwnerID: d.OwnerID, DepartmentID: nullable(d.DepartmentID), Filename: d.Filename, Version: d.Version,
		Revision: d.Revision, Size: d.Size, Mime: d.Mime, SHA256: d.SHA256, Views: d.Views, Downloads: d.Downloads,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, TextState: string(textStateOr(d.TextState)), PublishAt: utcTime(d.PublishAt), LectureAt: utcTime(d.LectureAt)}
}

// utcTime is t in UTC (nil stays nil): every time column is written in UTC
// so that SQLite's text comparisons order them as MariaDB does.
func utcTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r documentRow) document(tags []string) docs.Document {
	if tags == nil {
		tags = []string{}
	}
	return docs.Document{ID: r.ID, Title: r.Title, Description: r.Description, Tags: tags, Visibility: docs.Visibility(r.Visibility),
		OwnerID: r.OwnerID, DepartmentID: deref(r.DepartmentID), Filename: r.Filename, Version: r.Version, Revision: r.Revision,
		Size: r.Size, Mime: r.Mime, SHA256: r.SHA256, Views: r.Views, Downloads: r.Downloads,
		TextState: docs.TextState(r.TextState), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		DeletedAt: utcTime(r.DeletedAt), DeletedBy: deref(r.DeletedBy), PurgeAt: utcTime(r.PurgeAt),
		PublishAt: utcTime(r.PublishAt), LectureAt: utcTime(r.LectureAt)}
}

type versionRow struct {
	DocumentID string
	Version    int
	SHA256     string `gorm:"column:sha256"`
	Size       int64
	Mime       string
	Filename   string
	CreatedBy  string
	CreatedAt  time.Time
}

func (versionRow) TableName() string { return "document_versions" }

func (r versionRow) version() docs.Version {
	return docs.Version{DocumentID: r.DocumentID, Version: r.Version, SHA256: r.SHA256, Size: r.Size, Mime: r.Mime,
		Filename: r.Filename, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
}

type tagRow struct {
	DocumentID string
	Tag        string
}

func (tagRow) TableName() string { return "document_tags" }

// Documents implements docs.Store. Content changes are written only by
// the documents participant of the three-phase commit (DocsParticipant).
type Documents struct{ db *DB }

// Documents returns the document store.
func (db *DB) Documents() *Documents { return &Documents{db: db} }

var _ docs.Store = (*Documents)(nil)

func (s *Documents) g(ctx context.Context) *gorm.DB { return s.db.gorm.WithContext(ctx) }

func insertVersion(tx *gorm.DB, id string, v docs.Version) error {
	r := versionRow{DocumentID: id, Version: v.Version, SHA256: v.SHA256, Size: v.Size, Mime: v.Mime,
		Filename: v.Filename, CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt}
	return tx.Create(&r).Error
}

func replaceTags(tx *gorm.DB, id string, tags []string) error {
	if err := tx.Where("document_id = ?", id).Delete(&tagRow{}).Error; err != nil {
		return err
	}
	if len(tags) == 0 {
		return nil
	}
	rows := make([]tagRow, len(tags))
	for i, t := range tags {
		rows[i] = tagRow{DocumentID: id, Tag: t}
	}
	return tx.Create(&rows).Error
}

// previewStateOr is a change's preview state; empty (a change recorded
// before previews had a state) is none.
func previewStateOr(s docs.PreviewState) docs.PreviewState {
	if s == "" {
		return docs.PreviewNone
	}
	return s
}

// insertDocument writes a new document's rows: document, first version,
// tags and search entry.
func (s *Documents) insertDocument(tx *gorm.DB, d docs.Document, v docs.Version, text string, previews docs.PreviewState) error {
	r := toDocumentRow(d)
	now := time.Now().UTC()
	r.TextStateAt = &now
	r.PreviewState, r.PreviewStateAt = string(previewStateOr(previews)), &now
	if err := tx.Create(&r).Error; err != nil {
		return err
	}
	if err := insertVersion(tx, d.ID, v); err != nil {
		return err
	}
	if err := replaceTags(tx, d.ID, d.Tags); err != nil {
		return err
	}
	return s.db.dialect.index(tx, d, text, true)
}

func loadTags(tx *gorm.DB, id string) ([]string, error) {
	var tags []string
	err := tx.Model(&tagRow{}).Where("document_id = ?", id).Order("tag").Pluck("tag", &tags).Error
	return tags, err
}

// Get reads from a replica when ctx allows it (docs.MayReadReplica).
func (s *Documents) Get(ctx context.Context, id string) (docs.Document, error) {
	r := s.reader(ctx)
	return r.get(r.g(ctx), id, false)
}

// reader is the store on the database a read under ctx runs on (forRead).
func (s *Documents) reader(ctx context.Context) *Documents {
	if db := s.db.forRead(ctx); db != s.db {
		return &Documents{db: db}
	}
	return s
}

func (s *Documents) get(tx *gorm.DB, id string, lock bool) (docs.Document, error) {
	var r documentRow
	q := tx
	if lock {
		q = s.db.dialect.lockRow(tx)
	}
	if err := q.Where("id = ?", id).Take(&r).Error; err != nil {
		return docs.Document{}, notFound(err, docs.ErrNotFound)
	}
	tags, err := loadTags(tx, id)
	if err != nil {
		return docs.Document{}, err
	}
	d := r.document(tags)
	if d.Grants, err = loadGrants(tx, id); err != nil {
		return docs.Document{}, err
	}
	return d, nil
}

// locked runs fn on the document's row, locked, inside a transaction, after
// check approved the current state.
func (s *Documents) locked(ctx context.Context, id string, check func(docs.Document) error, fn func(tx *gorm.DB, cur docs.Document) error) error {
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := s.get(tx, id, true)
		if err != nil {
			return err
		}
		if err := check(cur); err != nil {
			return err
		}
		return fn(tx, cur)
	})
}

// appendVersion makes v the current content of d (version+1, revision+1),
// with its text in state (an empty body until extracted when pending).
func (s *Documents) appendVersion(tx *gorm.DB, d docs.Document, v docs.Version, text string, state docs.TextState, previews docs.PreviewState) (docs.Document, error) {
	v.Version = d.Version + 1
	if err := insertVersion(tx, d.ID, v); err != nil {
		return docs.Document{}, err
	}
	d.Version, d.Revision = v.Version, d.Revision+1
	d.Size, d.Mime, d.SHA256, d.Filename, d.UpdatedAt = v.Size, v.Mime, v.SHA256, v.Filename, v.CreatedAt
	d.TextState = textStateOr(state)
	err := tx.Model(&documentRow{}).Where("id = ?", d.ID).Updates(map[string]any{
		"version": d.Version, "revision": d.Revision, "size": d.Size, "mime": d.Mime,
		"sha256": d.SHA256, "filename": d.Filename, "updated_at": d.UpdatedAt,
		"text_state": string(d.TextState), "text_state_at": time.Now().UTC(), "text_error": "",
		"preview_state": string(previewStateOr(previews)), "preview_state_at": time.Now().UTC(), "preview_error": ""}).Error
	if err != nil {
		return docs.Document{}, err
	}
	return d, s.db.dialect.index(tx, d, text, true)
}

func (s *Documents) UpdateMeta(ctx context.Context, id string, check func(docs.Document) error, change func(*docs.Document)) (docs.Document, error) {
	var out docs.Document
	err := s.locked(ctx, id, check, func(tx *gorm.DB, d docs.Document) error {
		oldTags := slices.Clone(d.Tags) // change may edit the slice in place
		before := d
		oldGrants := slices.Clone(d.Grants)
		change(&d)
		d.Revision++
		d.UpdatedAt = time.Now().UTC()
		err := tx.Model(&documentRow{}).Where("id = ?", id).Updates(map[string]any{
			"title": d.Title, "description": d.Description, "visibility": string(d.Visibility),
			"publish_at": utcTime(d.PublishAt), "lecture_at": utcTime(d.LectureAt),
			"revision": d.Revision, "updated_at": d.UpdatedAt}).Error
		if err != nil {
			return err
		}
		if !equalStrings(oldTags, d.Tags) {
			if err := replaceTags(tx, id, d.Tags); err != nil {
				return err
			}
		}
		action, detail := audit.DocumentUpdate, metaChanges(before, d, oldTags)
		if !equalGrants(oldGrants, d.Grants) {
			if err := replaceGrants(tx, id, d.Grants); err != nil {
				return err
			}
			action, detail["grants"] = audit.DocumentGrants, audit.Change{Old: oldGrants, New: d.Grants}
		}
		out = d
		if err := s.db.dialect.index(tx, d, "", false); err != nil {
			return err
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(action, id, d.DepartmentID, detail))
	})
	return out, err
}

// metaChanges is a metadata update's detail: the fields it changed, old
// and new.
func metaChanges(old, d docs.Document, oldTags []string) map[string]any {
	detail := map[string]any{}
	if old.Title != d.Title {
		detail["title"] = audit.Change{Old: old.Title, New: d.Title}
	}
	if old.Description != d.Description {
		detail["description"] = audit.Change{Old: old.Description, New: d.Description}
	}
	if old.Visibility != d.Visibility {
		detail["visibility"] = audit.Change{Old: old.Visibility, New: d.Visibility}
	}
	if !sameTime(old.PublishAt, d.PublishAt) {
		detail["publish_at"] = audit.Change{Old: old.PublishAt, New: d.PublishAt}
	}
	if !sameTime(old.LectureAt, d.LectureAt) {
		detail["lecture_at"] = audit.Change{Old: old.LectureAt, New: d.LectureAt}
	}
	if !equalStrings(oldTags, d.Tags) {
		detail["tags"] = audit.Change{Old: oldTags, New: d.Tags}
	}
	return detail
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// usage is the bytes of all of a document's versions.
func usage(tx *gorm.DB, id string) (int64, error) {
	var used int64
	err := tx.Raw(`SELECT COALESCE(SUM(size), 0) FROM document_versions WHERE document_id = ?`, id).Scan(&used).Error
	return used, err
}

// removeDocument deletes a document's rows and returns the bytes it used.
func (s *Documents) removeDocument(tx *gorm.DB, id string) (int64, error) {
	used, err := usage(tx, id)
	if err != nil {
		return 0, err
	}
	// FTS5 finds its entry through the documents row, so it goes first;
	// Mroonga is not transactional, so its entry goes only once the row
	// delete has succeeded (a failure then leaves an orphan, which is
	// invisible and purged, rather than an unsearchable document).
	transactional := s.db.dialect.transactionalIndex()
	if transactional {
		if err := s.db.dialect.unindex(tx, id); err != nil {
			return 0, err
		}
	}
	if err := tx.Where("id = ?", id).Delete(&documentRow{}).Error; err != nil {
		return 0, err
	}
	if !transactional {
		return used, s.db.dialect.unindex(tx, id)
	}
	return used, nil
}

// Usage is the bytes of all of a document's versions.
func (s *Documents) Usage(ctx context.Context, id string) (int64, error) { return usage(s.g(ctx), id) }

// DepartmentQuota is a department's quota in bytes (0: unlimited or no department).
func (s *Documents) DepartmentQuota(ctx context.Context, dept string) (int64, error) {
	if dept == "" {
		return 0, nil
	}
	var q []int64
	err := s.g(ctx).Raw("SELECT quota_bytes FROM departments WHERE id = ?", dept).Scan(&q).Error
	if len(q) == 0 {
		return 0, err
	}
	return q[0], err
}

func (s *Documents) Versions(ctx context.Context, id string) ([]docs.Version, error) {
	var rows []versionRow
	if err := s.g(ctx).Where("document_id = ?", id).Order("version DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]docs.Version, len(rows))
	for i, r := range rows {
		out[i] = r.version()
	}
	return out, nil
}

func (s *Documents) Version(ctx context.Context, id string, n int) (docs.Version, error) {
	var r versionRow
	err := s.g(ctx).Where("document_id = ? AND version = ?", id, n).Take(&r).Error
	return r.version(), notFound(err, docs.ErrNotFound)
}

// AddCounts adds views and downloads in one statement per 500 documents
// (ids in order, so that two instances flushing lock rows alike): a
// flush is one round trip, not one autocommitted UPDATE per document. It
// is all or nothing, so that the caller may retry a failed flush whole.
func (s *Documents) AddCounts(ctx context.Context, counts map[string]docs.Counts) error {
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	const chunk = 500
	if len(ids) <= chunk {
		return addCounts(s.g(ctx), ids, counts)
	}
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		for from := 0; from < len(ids); from += chunk {
			if err := addCounts(tx, ids[from:min(from+chunk, len(ids))], counts); err != nil {
				return err
			}
		}
		return nil
	})
}

func addCounts(db *gorm.DB, ids []string, counts map[string]docs.Counts) error {
	var views, downloads strings.Builder
	var vArgs, dArgs []any
	for _, id := range ids {
		c := counts[id]
		views.WriteString(" WHEN ? THEN ?")
		vArgs = append(vArgs, id, c.Views)
		downloads.WriteString(" WHEN ? THEN ?")
		dArgs = append(dArgs, id, c.Downloads)
	}
	q := "UPDATE documents SET views = views + CASE id" + views.String() + " ELSE 0 END, downloads = downloads + CASE id" +
		downloads.String() + " ELSE 0 END WHERE id IN ?"
	return db.Exec(q, append(append(vArgs, dArgs...), ids)...).Error
}

func (s *Documents) CollectBlob(ctx context.Context, sha string, cutoff time.Time, remove func() error) (bool, error) {
	collected := false
	err := s.g(ctx).Transaction(func(tx *gorm.DB) error {
		// A file without a row (a crash between publication and commit) gets
		// a row first, so that the lock below covers it too.
		if err := s.db.dialect.insertBlobIgnore(tx, sha, cutoff.Add(-time.Second)); err != nil {
			return err
		}
		var lastUsed time.Time
		if err := tx.Raw(`SELECT last_used_at FROM blobs WHERE sha256 = ?`+s.db.dialect.forUpdate(), sha).Scan(&lastUsed).Error; err != nil {
			return err
		}
		if !lastUsed.Before(cutoff) {
			return nil
		}
		var refs int64
		if err := tx.Raw(`SELECT (SELECT COUNT(*) FROM document_versions WHERE sha256 = ?) + (SELECT COUNT(*) FROM documents WHERE sha256 = ?)`, sha, sha).Scan(&refs).Error; err != nil {
			return err
		}
		if refs > 0 {
			return nil
		}
		if err := remove(); err != nil {
			return err
		}
		collected = true
		return tx.Exec(`DELETE FROM blobs WHERE sha256 = ?`, sha).Error
	})
	return collected, err
}

// Scheduled reads the documents whose publish_at or lecture_at lies in
// [from, to] (two index range scans).
func (s *Documents) Scheduled(ctx context.Context, from, to time.Time) ([]docs.Document, error) {
	var rows []documentRow
	err := s.g(ctx).Raw(`SELECT id, size, publish_at, lecture_at FROM documents WHERE publish_at BETWEEN ? AND ? AND deleted_at IS NULL
		UNION SELECT id, size, publish_at, lecture_at FROM documents WHERE lecture_at BETWEEN ? AND ? AND deleted_at IS NULL`,
		from.UTC(), to.UTC(), from.UTC(), to.UTC()).Scan(&rows).Error
	out := make([]docs.Document, len(rows))
	for i, r := range rows {
		out[i] = docs.Document{ID: r.ID, Size: r.Size, PublishAt: utcTime(r.PublishAt), LectureAt: utcTime(r.LectureAt)}
	}
	return out, err
}

// NextPublication is the earliest publish_at after after (an index range
// scan: ix_documents_publish_at).
func (s *Documents) NextPublication(ctx context.Context, after time.Time) (time.Time, bool, error) {
	var next []time.Time
	err := s.g(ctx).Raw("SELECT publish_at FROM documents WHERE publish_at > ? ORDER BY publish_at LIMIT 1", after.UTC()).Scan(&next).Error
	if err != nil || len(next) == 0 {
		return time.Time{}, false, err
	}
	return next[0].UTC(), true, nil
}

func (s *Documents) PurgeSearchOrphans(ctx context.Context) (int64, error) {
	return s.db.dialect.purgeOrphans(ctx, s.db.gorm, time.Now().UTC().Add(-10*time.Minute))
}

// UsageByDepartment is, per department, its documents and the bytes of all
// their versions: the truth that usage counters are reconciled against.
func (s *Documents) UsageByDepartment(ctx context.Context) (map[string][2]int64, error) {
	var rows []struct {
		DepartmentID string
		Documents    int64
		Bytes        int64
	}
	// Documents without a department are counted in docs.NoDepartment, as
	// the three-phase commit charges them.
	err := s.g(ctx).Raw(`SELECT COALESCE(d.department_id, ?) AS department_id, COUNT(DISTINCT d.id) AS documents, COALESCE(SUM(v.size), 0) AS bytes
		FROM documents d JOIN document_versions v ON v.document_id = d.id
		GROUP BY COALESCE(d.department_id, ?)`, docs.NoDepartment, docs.NoDepartment).Scan(&rows).Error
	out := map[string][2]int64{}
	for _, r := range rows {
		out[r.DepartmentID] = [2]int64{r.Documents, r.Bytes}
	}
	return out, err
}

// SetDepartmentUsage rewrites the departments table's usage copy to truth.
func (s *Documents) SetDepartmentUsage(ctx context.Context, truth map[string][2]int64) error {
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("UPDATE departments SET bytes_used = 0").Error; err != nil {
			return err
		}
		for dept, t := range truth {
			if err := tx.Exec("UPDATE departments SET bytes_used = ? WHERE id = ?", t[1], dept).Error; err != nil {
				return err
			}
		}
		return nil
	})
}
