package docs

import (
	"errors"
	"fmt"
	"time"
)

// DefaultOptions is the settings NewService uses for zero values.
func DefaultOptions() Options {
	return Options{MaxUploadBytes: 100 << 20, MaxTextBytes: 1 << 20, BlobGrace: time.Hour, MaxCachedContent: 1 << 20, TrashRetention: DefaultTrashRetention}
}

// Validate reports every setting an operator sets that is out of bounds
// (zero values included: see NewService for the defaults code may rely on).
func (o Options) Validate() error {
	var errs []error
	if o.MaxUploadBytes < 1 || o.MaxUploadBytes > 64<<30 {
		errs = append(errs, fmt.Errorf("MaxUploadBytes must be between 1 and %d", int64(64<<30)))
	}
	if o.BlobGrace < time.Minute {
		errs = append(errs, errors.New("BlobGrace must be at least 1m: shorter would race uploads in flight"))
	}
	if o.TrashRetention < time.Minute || o.TrashRetention > 10*365*24*time.Hour {
		errs = append(errs, errors.New("TrashRetention must be between 1m and 10 years"))
	}
	if o.MaxCachedContent < 0 || o.MaxCachedContent > 64<<20 {
		errs = append(errs, errors.New("MaxCachedContent must be between 0 and 64 MiB"))
	}
	return errors.Join(errs...)
}
