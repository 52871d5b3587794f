package docs

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/extract"

	"docplat/blob"
	"docplat/events"
)

// Options configure the Service.
type Options struct {
	MaxUploadBytes int64         // content size limit; default 100 MiB
	MaxTextBytes   int64         // extracted text kept for search; default 1 MiB
	BlobGrace      time.Duration // unreferenced blobs younger than this are kept; default 1h
	TrashRetention time.Duration // how long a trashed document stays restorable; default 720h
	Logger         *slog.Logger
	Now            func() time.Time // the clock; tests move it
	// ContentCache, when set, keeps the bytes of contents up to
	// MaxCachedContent (default 1 MiB); larger ones stream from the blob store.
	ContentCache     Cache
	MaxCachedContent int64
	// Access receives an event per read (the access stream that the stats
	// service counts); Publish must not block.
	Access AccessPublisher
	// Instance names this process in its access events.
	Instance string
	// Jobs is where the extraction of a new content's text is enqueued;
	// nil: nowhere (its text stays pending).
	Jobs Queue
	// Extract reads a file's text for search (default: extract.Text, in
	// bounded child processes for PDF and Office files); HasText says which
	// types it has text for (default: extract.Supported). A content of
	// another type is TextNone.
	Extract ExtractFunc
	HasText func(mime string) bool
	// ExtractInline says which contents' text is read in the upload's
	// commit instead of by a job (default: extractsInline). Tests that
	// watch the job path turn it off.
	ExtractInline func(mime string, size int64) bool
	// Preview makes a content's page previews in a preview job; HasPreview
	// says which types have them (preview.Paged where it is wired). nil:
	// no preview jobs are enqueued (HasPreview) or done (Preview).
	Preview    PreviewFunc
	HasPreview func(mime string) bool
	// PreviewGaveUp records a preview job that failed for good for a
	// reason not the file's (nil: the row alone says failed).
	PreviewGaveUp PreviewGaveUpFunc
	// JobLock, when set, is held by the periodic trash purge so that one
	// instance at a time runs it (lock.Locker.Hold where it is wired).
	JobLock WriteLock
	// Registerer takes the service's metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// AccessPublisher is where reads are reported: events.Producer publishes
// them to Kafka; the request path knows only this.
type AccessPublisher interface {
	Publish(events.Access)
}

// Service implements the document rules over a Repository and a blob store.
type Service struct {
	repo  Repository
	blobs *blob.Store
	opt   Options
	log   *slog.Logger
	now   func() time.Time

	mu     sync.Mutex
	counts map[string]Counts // access counters not yet flushed

	purged *prometheus.CounterVec
}

// NewService returns a document service.
func NewService(repo Repository, blobs *blob.Store, opt Options) *Service {
	opt = opt.withDefaults()
	purged := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_trash_purged_total",
		Help: "Documents purged from the trash for good, by why: expired (the retention ended; the periodic purge) or requested (a purge from the trash screen or API)."},
		[]string{"reason"})
	for _, r := range []string{purgeExpired, purgeRequested} {
		purged.WithLabelValues(r)
	}
	if opt.Registerer != nil {
		opt.Registerer.MustRegister(purged)
	}
	return &Service{repo: repo, blobs: blobs, opt: opt, log: opt.Logger, now: opt.Now, counts: map[string]Counts{}, purged: purged}
}

func (opt Options) withDefaults() Options {
	if opt.MaxUploadBytes <= 0 {
		opt.MaxUploadBytes = 100 << 20
	}
	if opt.MaxTextBytes <= 0 {
		opt.MaxTextBytes = 1 << 20
	}
	if opt.BlobGrace <= 0 {
		opt.BlobGrace = time.Hour
	}
	if opt.TrashRetention <= 0 {
		opt.TrashRetention = DefaultTrashRetention
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxCachedContent <= 0 {
		opt.MaxCachedContent = 1 << 20
	}
	if opt.Extract == nil {
		opt.Extract = extract.Text
	}
	if opt.HasText == nil {
		opt.HasText = extract.Supported
	}
	if opt.ExtractInline == nil {
		max := opt.MaxTextBytes
		opt.ExtractInline = func(mime string, size int64) bool { return extractsInline(mime, size, max) }
	}
	if opt.Now == nil {
		opt.Now = func() time.Time { return time.Now().UTC() }
	}
	return opt
}

// MaxUploadBytes is the configured content size limit.
func (s *Service) MaxUploadBytes() int64 { return s.opt.MaxUploadBytes }
