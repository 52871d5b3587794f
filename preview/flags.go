package preview

import (
	"errors"
	"time"

	"docplat/internal/envflag"
)

// Bind declares the preview limits' flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	d := DefaultOptions()
	b.Int64(&o.CacheBytes, "preview-cache-bytes", d.CacheBytes, "bound of the PDF page-image cache in <data-dir>/previews; the least recently used images go first, and images of deleted content at each garbage collection")
	b.Int64(&o.MaxPDFBytes, "preview-max-pdf-bytes", d.MaxPDFBytes, "larger PDFs get no page previews (their preview answers kind none)")
	b.Duration(&o.Timeout, "preview-timeout", d.Timeout, "longest one poppler run (a page count or a page image) may take, also its CPU time; past it the preview answers 503")
}

// Validate reports every option out of its bounds.
func (o *Options) Validate() error {
	var errs []error
	if o.CacheBytes < 1<<20 {
		errs = append(errs, errors.New("preview-cache-bytes must be at least 1 MiB"))
	}
	if o.MaxPDFBytes < 1 {
		errs = append(errs, errors.New("preview-max-pdf-bytes must be positive"))
	}
	if o.Timeout < 100*time.Millisecond || o.Timeout > 5*time.Minute {
		errs = append(errs, errors.New("preview-timeout must be between 100ms and 5m"))
	}
	return errors.Join(errs...)
}
