package docs

import (
	"time"

	"docplat/internal/envflag"
)

// Bind declares the document service's flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.Int64(&o.MaxUploadBytes, "max-upload-bytes", 100<<20, "largest accepted document in bytes")
	b.Duration(&o.BlobGrace, "blob-grace", time.Hour, "unreferenced blobs and staging files younger than this are kept")
	b.Int64(&o.MaxCachedContent, "cache-max-content-bytes", 1<<20, "contents up to this size are cached; larger ones stream from the blob store")
}
