package preview

import (
	"errors"
	"time"

	"docplat/internal/envflag"
)

// Bind declares the preview limits' flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	d := DefaultOptions()
	b.Int64(&o.MaxPDFBytes, "preview-max-pdf-bytes", d.MaxPDFBytes, "larger PDFs (also an Office file's converted PDF) get no page previews (their preview answers kind none)")
	b.Int64(&o.MaxOfficeBytes, "preview-max-office-bytes", d.MaxOfficeBytes, "larger Office files (docx, pptx, xlsx, odt, odp, ods) are not converted for a preview (kind none)")
	b.Int(&o.MaxPages, "preview-max-pages", d.MaxPages, "page images are generated for the first this many pages of a PDF or Office file (the preview says total_pages)")
	b.Int64(&o.MaxImagePixels, "preview-max-image-pixels", d.MaxImagePixels, "images of more pixels (width x height, read from the header before decoding) get no preview")
	b.Duration(&o.Timeout, "preview-timeout", d.Timeout, "CPU time one poppler run (a page count, or up to 10 page images at one width) may use; past it the file is recorded as not previewable. The run may take 3 times it in wall time; past that it is retried later")
	b.Duration(&o.OfficeTimeout, "preview-office-timeout", d.OfficeTimeout, "CPU time one LibreOffice conversion to PDF may use; past it the file is recorded as not previewable. The run may take 3 times it in wall time; past that it is retried later")
	b.Int64(&o.MaxOfficeMemory, "preview-office-memory", d.MaxOfficeMemory, "address space one LibreOffice conversion may use (prlimit --as)")
	b.Int(&o.Concurrency, "preview-concurrency", d.Concurrency, "previews generated at once by one process (each runs poppler or LibreOffice)")
}

// Validate reports every option out of its bounds.
func (o *Options) Validate() error {
	var errs []error
	if o.MaxPDFBytes < 1 || o.MaxOfficeBytes < 1 {
		errs = append(errs, errors.New("preview-max-pdf-bytes and preview-max-office-bytes must be positive"))
	}
	if o.MaxPages < 1 || o.MaxPages > 10000 {
		errs = append(errs, errors.New("preview-max-pages must be between 1 and 10000"))
	}
	if o.MaxImagePixels < 1 {
		errs = append(errs, errors.New("preview-max-image-pixels must be positive"))
	}
	if o.Timeout < 100*time.Millisecond || o.Timeout > 5*time.Minute {
		errs = append(errs, errors.New("preview-timeout must be between 100ms and 5m"))
	}
	if o.OfficeTimeout < time.Second || o.OfficeTimeout > 30*time.Minute {
		errs = append(errs, errors.New("preview-office-timeout must be between 1s and 30m"))
	}
	if o.MaxOfficeMemory < 256<<20 {
		errs = append(errs, errors.New("preview-office-memory must be at least 256 MiB"))
	}
	if o.Concurrency < 1 || o.Concurrency > 64 {
		errs = append(errs, errors.New("preview-concurrency must be between 1 and 64"))
	}
	return errors.Join(errs...)
}
