package preview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"docplat/blob"
	"docplat/errs"
)

// maxPageBytes bounds one stored page image (one of maxAspect*width x
// width pixels compresses far below it).
const maxPageBytes = 32 << 20

// Generate makes and stores src's page images (a PDF's pages, an Office
// file's pages through PDF, an image downscaled) and then its manifest, so
// that Describe and Page find them. It is what the "preview" job runs
// after an upload or a new version; it does nothing for a content already
// generated (identical files share previews) or one without pages.
//
// poppler and LibreOffice run as child processes bounded in CPU and wall
// time, memory and output; images are decoded in process once their
// header's size passed the pixel bound. At most Options.Concurrency
// generations run at once. A file that cannot be
// previewed (damaged, protected, a bomb, over the limits) is recorded as
// such, so that it is never tried again, and its error has code
// errs.Unprocessable: the job should not retry it. Any other error (a
// converter that could not run, a store that failed, ctx ended) leaves
// nothing recorded: retry later.
func (s *Service) Generate(ctx context.Context, src Source) error {
	kind := pagedKind(src.Mime)
	if kind == "" {
		return nil
	}
	if m, err := s.manifest(src.SHA256); err == nil && !m.GaveUp {
		return nil
	} else if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	if s.cannot(kind, src.Size) != "" {
		// Not recorded: Describe says why from this server's tools and
		// limits, which may change (a generation after they did works).
		return nil
	}
	_, err, _ := s.flight.Do(src.SHA256, func() (any, error) {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-s.slots }()
		start := time.Now()
		m, err := s.generate(ctx, kind, src)
		outcome := "ok"
		switch {
		case errs.CodeOf(err) == errs.Unprocessable && ctx.Err() == nil:
			outcome = "unpreviewable"
			m = manifest{Kind: KindNone, Failed: true, Reason: errs.MessageOf(err)}
			s.log.InfoContext(ctx, "content cannot be previewed", "sha256", src.SHA256, "kind", kind, "err", err)
		case err != nil:
			s.m.generations.WithLabelValues(kind, "failed").Inc()
			s.log.WarnContext(ctx, "preview generation failed", "sha256", src.SHA256, "kind", kind, "err", err)
			return nil, err
		}
		if perr := s.putManifest(src.SHA256, m); perr != nil {
			s.m.generations.WithLabelValues(kind, "failed").Inc()
			return nil, perr
		}
		s.m.generations.WithLabelValues(kind, outcome).Inc()
		s.m.generateSeconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
		return nil, err
	})
	return err
}

// GiveUp records that the previews of content sha (of type mediaType) could not be made for a
// reason that is not the file's (a converter that would not run, a store
// that failed, after every retry of its job): readers are told so, with
// reason, instead of pending. A content already generated keeps its
// previews; a later Generate (another job of the same bytes) tries again.
func (s *Service) GiveUp(sha, mediaType, reason string) error {
	if _, err := s.manifest(sha); err == nil {
		return nil
	} else if !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	s.m.generations.WithLabelValues(pagedKind(mediaType), "gave_up").Inc()
	return s.putManifest(sha, manifest{Kind: KindNone, Failed: true, GaveUp: true,
		Reason: "the previews could not be made (" + reason + "); download the content, or upload it again to retry"})
}

func (s *Service) putManifest(sha string, m manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.store.PutDerived(sha, manifestName, bytes.NewReader(b), int64(len(b)))
}

// generate makes src's page images in a scratch directory of its own and
// stores them; it answers the manifest to store last.
func (s *Service) generate(ctx context.Context, kind string, src Source) (manifest, error) {
	dir, err := os.MkdirTemp(s.opt.WorkDir, "docplat-preview-*")
	if err != nil {
		return manifest{}, err
	}
	defer os.RemoveAll(dir)
	file, err := asFile(src, dir, max(s.opt.MaxPDFBytes, s.opt.MaxOfficeBytes))
	if err != nil {
		return manifest{}, err
	}
	switch kind {
	case KindImage:
		return s.generateImage(ctx, src.SHA256, file)
	case KindOffice:
		base := strings.TrimSpace(strings.SplitN(src.Mime, ";", 2)[0])
		pdf, err := s.convert(ctx, file, officeTypes[base], dir)
		if err != nil {
			return manifest{}, err
		}
		// Kept: the pages come from it, and a later reader (a download as
		// PDF, text extraction) need not convert again.
		if err := s.putFile(src.SHA256, ConvertedPDF, pdf, s.opt.MaxPDFBytes); err != nil {
			return manifest{}, err
		}
		m, err := s.generatePages(ctx, src.SHA256, pdf, dir)
		m.Kind = KindOffice
		return m, err
	}
	m, err := s.generatePages(ctx, src.SHA256, file, dir)
	m.Kind = KindPDF
	return m, err
}

// asFile names a file holding src: the blob itself when the body is one,
// else a copy in dir.
func asFile(src Source, dir string, limit int64) (string, error) {
	if f, ok := src.Body.(*os.File); ok {
		return f.Name(), nil
	}
	if o, ok := src.Body.(blob.Object); ok {
		if p, ok := blob.LocalPath(o); ok {
			return p, nil
		}
	}
	tmp, err := os.Create(filepath.Join(dir, "source"))
	if err != nil {
		return "", err
	}
	_, err = io.Copy(tmp, io.LimitReader(src.Body, limit))
	return tmp.Name(), errors.Join(err, tmp.Close())
}

// pageChunk is how many pages one pdftoppm run renders: few enough that
// a run stays within Options.Timeout, many enough to spare start-ups.
const pageChunk = 10

// generatePages renders the first MaxPages pages of the PDF file at every
// width and stores them.
func (s *Service) generatePages(ctx context.Context, sha, file, dir string) (manifest, error) {
	start := time.Now()
	in, err := s.poppler.info(ctx, file, s.opt.MaxPages)
	s.measure("info", start, err)
	if err != nil {
		return manifest{}, err
	}
	pages := len(in.widths)
	out := filepath.Join(dir, "pages")
	if err := os.Mkdir(out, 0o700); err != nil {
		return manifest{}, err
	}
	for _, w := range Widths {
		// One run for up to pageChunk consecutive pages of one width in
		// points (most documents: every page).
		for first := 1; first <= pages; {
			last := first
			for last < pages && last-first+1 < pageChunk && in.widths[last] == in.widths[first-1] {
				last++
			}
			start := time.Now()
			err := s.poppler.renderPages(ctx, file, first, last, in.widths[first-1], w, filepath.Join(out, "p"))
			s.measure("pages", start, err)
			if err != nil {
				return manifest{}, err
			}
			if err := s.storePages(sha, out, first, last, w); err != nil {
				return manifest{}, err
			}
			first = last + 1
		}
	}
	return manifest{Pages: pages, TotalPages: in.pages, Widths: Widths}, nil
}

// storePages stores the images pdftoppm wrote into dir (p-<page>.png,
// the page number zero-padded) for pages first to last at width w.
func (s *Service) storePages(sha, dir string, first, last, w int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	found := map[int]string{}
	for _, e := range entries {
		num, ok := strings.CutPrefix(strings.TrimSuffix(e.Name(), ".png"), "p-")
		if n, err := strconv.Atoi(num); ok && err == nil {
			found[n] = filepath.Join(dir, e.Name())
		}
	}
	keys := make([]int, 0, len(found))
	for n := range found {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	for page := first; page <= last; page++ {
		p, ok := found[page]
		if !ok {
			return fmt.Errorf("pdftoppm wrote no image of page %d (it wrote %v): %w", page, keys, errRenderer)
		}
		if err := s.putFile(sha, PageName(page, w), p, maxPageBytes); err != nil {
			return err
		}
	}
	for _, p := range found {
		os.Remove(p)
	}
	return nil
}

// ConvertedPDF is the derived file holding an Office file converted to PDF.
const ConvertedPDF = "converted.pdf"

func (s *Service) putFile(sha, name, path string, limit int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return s.store.PutDerived(sha, name, f, limit)
}

// measure counts one converter run by operation and outcome.
func (s *Service) measure(op string, start time.Time, err error) {
	outcome := "ok"
	switch {
	case errs.CodeOf(err) == errs.Unprocessable:
		outcome = "unpreviewable"
	case err != nil:
		outcome = "failed"
	}
	s.m.renders.WithLabelValues(op, outcome).Inc()
	s.m.seconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
}
