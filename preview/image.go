package preview

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"time"

	// The formats an image preview decodes.
	_ "image/gif"
	_ "image/jpeg"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"docplat/errs"
)

var errImage = errs.New(errs.Unprocessable, "the image cannot be read (damaged, or too large to decode), so it has no preview; the content itself can still be downloaded")

// generateImage downscales an image to every width (never up: a narrower
// image is stored at its own width under each name) and stores it as
// page 1. Its size is read from the header first, so that a
// decompression bomb is refused before a pixel is allocated; Go's
// decoders are memory-safe, so this runs in process.
func (s *Service) generateImage(ctx context.Context, sha, file string) (m manifest, err error) {
	start := time.Now()
	defer func() { s.measure("image", start, err) }()
	f, err := os.Open(file)
	if err != nil {
		return manifest{}, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return manifest{}, fmt.Errorf("%v: %w", err, errImage)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > s.opt.MaxImagePixels {
		return manifest{}, fmt.Errorf("%dx%d pixels, over %d: %w", cfg.Width, cfg.Height, s.opt.MaxImagePixels, errImage)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return manifest{}, err
	}
	img, _, err := decode(f)
	if err != nil {
		return manifest{}, fmt.Errorf("%v: %w", err, errImage)
	}
	// Largest first, each width from the one before: the kernel then
	// reads a few source pixels per output pixel, not the whole original.
	src := img
	var buf bytes.Buffer
	for i := len(Widths) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return manifest{}, err
		}
		w := min(Widths[i], src.Bounds().Dx())
		h := max(1, int(int64(src.Bounds().Dy())*int64(w)/int64(src.Bounds().Dx())))
		if w != src.Bounds().Dx() {
			dst := image.NewNRGBA(image.Rect(0, 0, w, h))
			draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
			src = dst
		}
		buf.Reset()
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, src); err != nil {
			return manifest{}, err
		}
		if err := s.store.PutDerived(sha, PageName(1, Widths[i]), &buf, maxPageBytes); err != nil {
			return manifest{}, err
		}
	}
	return manifest{Kind: KindImage, Pages: 1, TotalPages: 1, Widths: Widths, Width: cfg.Width, Height: cfg.Height}, nil
}

// decode is image.Decode that turns a decoder's panic (a bug on hostile
// input) into the file's failure rather than the process's.
func decode(f *os.File) (img image.Image, format string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panicked: %v", r)
		}
	}()
	return image.Decode(f)
}
