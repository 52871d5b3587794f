package preview

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"docplat/errs"
	"docplat/internal/sandbox"
)

// office converts Office files to PDF with LibreOffice headless, one
// bounded child process per file, each with a profile directory of its
// own (LibreOffice keeps state there and refuses a second process on the
// same one).
type office struct {
	soffice   string
	timeout   time.Duration
	maxMemory int64
}

// Bounds of an Office file's zip container, checked before LibreOffice
// sees it: every format it converts here is a zip, and a zip bomb is
// refused by its directory (what LibreOffice would inflate), not after
// inflating it.
const (
	maxUnzippedBytes = 512 << 20
	maxZipEntries    = 10000
)

var (
	errOfficeBroken = errs.New(errs.Unprocessable, "the file cannot be read as an Office document (damaged, protected or not what its type says), so it has no preview; the content itself can still be downloaded")
	errZipBomb      = errs.New(errs.Unprocessable, "the file unpacks to more than a preview may read, so it has no preview; the content itself can still be downloaded")
)

// checkZip refuses a container that is not a zip or unpacks past the
// bounds.
func checkZip(file string) error {
	z, err := zip.OpenReader(file)
	if err != nil {
		return fmt.Errorf("%v: %w", err, errOfficeBroken)
	}
	defer z.Close()
	if len(z.File) > maxZipEntries {
		return fmt.Errorf("%d entries: %w", len(z.File), errZipBomb)
	}
	var total uint64
	for _, f := range z.File {
		total += f.UncompressedSize64
		if total > maxUnzippedBytes {
			return fmt.Errorf("over %d bytes unpacked: %w", maxUnzippedBytes, errZipBomb)
		}
	}
	return nil
}

// convert turns file (of format ext: docx, odp...) into a PDF in dir and
// answers its path.
func (s *Service) convert(ctx context.Context, file, ext, dir string) (string, error) {
	start := time.Now()
	pdf, err := s.office.convert(ctx, file, ext, dir, s.opt.MaxPDFBytes)
	s.measure("convert", start, err)
	return pdf, err
}

func (o *office) convert(ctx context.Context, file, ext, dir string, maxPDF int64) (string, error) {
	if err := checkZip(file); err != nil {
		return "", err
	}
	// LibreOffice picks the filter by the name's extension as well as the
	// bytes; the blob has none.
	in := filepath.Join(dir, "document."+ext)
	if err := os.Symlink(file, in); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "converted")
	profile := filepath.Join(dir, "profile")
	lim := limits(o.timeout, o.maxMemory, maxOutput)
	lim.Dir = dir
	lim.Env = append(lim.Env, "HOME="+dir, "TMPDIR="+dir, "SAL_USE_VCLPLUGIN=svp")
	res, err := sandbox.Run(ctx, lim, o.soffice,
		"-env:UserInstallation=file://"+profile,
		"--headless", "--invisible", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
		"--convert-to", "pdf", "--outdir", out, in)
	if err != nil {
		// No exit status of soffice's is the file's verdict (it exits 0
		// for a file it cannot read; see below).
		return "", runError(err)
	}
	if res.Truncated {
		return "", fmt.Errorf("soffice wrote more than %d bytes: %w", maxOutput, errRenderer)
	}
	pdf := filepath.Join(out, "document.pdf")
	fi, err := os.Stat(pdf)
	switch {
	case err != nil:
		// LibreOffice says "Error: source file could not be loaded" and
		// exits 0 for a file it cannot read.
		return "", fmt.Errorf("soffice wrote no PDF: %s: %w", res.Stderr, errOfficeBroken)
	case fi.Size() > maxPDF:
		return "", fmt.Errorf("the converted PDF has %d bytes: %w", fi.Size(), errLimits)
	}
	return pdf, nil
}
