package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DirBackend keeps blobs in a local directory that several server
// processes may share (see doc.go): staged files in <dir>/blobs/tmp,
// published by one rename, fsynced file and directories.
type DirBackend struct {
	dir string // as given to NewDirBackend
	tmp string // <dir>/blobs/tmp
}

// NewDirBackend prepares <dir>/blobs/tmp and returns the backend.
func NewDirBackend(dir string) (*DirBackend, error) {
	d := &DirBackend{dir: dir, tmp: filepath.Join(dir, "blobs", "tmp")}
	if err := os.MkdirAll(d.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", dir, err)
	}
	return d, nil
}

// Kind is "dir".
func (d *DirBackend) Kind() string { return "dir" }

// Dir is the root directory.
func (d *DirBackend) Dir() string { return d.dir }

func (d *DirBackend) path(key string) string { return filepath.Join(d.dir, filepath.FromSlash(key)) }

// fileObject is an opened file with the size and time it had when opened.
type fileObject struct {
	*os.File
	size int64
	mod  time.Time
}

func (f *fileObject) Size() int64        { return f.size }
func (f *fileObject) ModTime() time.Time { return f.mod }

// LocalPath names the file (see LocalFile).
func (f *fileObject) LocalPath() string { return f.File.Name() }

func openFile(p, what string) (Object, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(what, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: %s: %w", what, err)
	}
	return &fileObject{File: f, size: fi.Size(), mod: fi.ModTime()}, nil
}

// Stage writes r to a temp file in blobs/tmp, fsyncs and closes it.
func (d *DirBackend) Stage(r io.Reader) (string, error) {
	f, err := os.CreateTemp(d.tmp, "stage-*")
	if err != nil {
		return "", fmt.Errorf("blob: stage: %w", err)
	}
	if err := writeFile(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return filepath.Base(f.Name()), nil
}

// writeFile copies r into f, makes it 0o644, fsyncs and closes it.
func writeFile(f *os.File, r io.Reader) error {
	if _, err := io.CopyBuffer(f, r, make([]byte, copyBufSize)); err != nil {
		return err
	}
	// CreateTemp makes 0o600 files; published blobs are 0o644.
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("blob: stage: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: stage: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("blob: stage: close: %w", err)
	}
	return nil
}

func (d *DirBackend) OpenStaged(name string) (Object, error) {
	return openFile(filepath.Join(d.tmp, name), "staged "+name)
}

func (d *DirBackend) RemoveStaged(name string) error {
	if err := os.Remove(filepath.Join(d.tmp, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: discard %s: %w", name, err)
	}
	return nil
}

// Publish renames the staged file to key's path, then fsyncs the
// directories whose entries changed. An existing file is replaced by the
// identical content (a rename is atomic), which also re-creates a blob a
// concurrent collector may just have removed.
func (d *DirBackend) Publish(name, key string) error {
	tmp, final := filepath.Join(d.tmp, name), d.path(key)
	if _, err := os.Stat(tmp); errors.Is(err, fs.ErrNotExist) {
		if _, ferr := os.Stat(final); ferr == nil {
			return nil
		}
		return fmt.Errorf("%w (staged file %s is gone)", ErrNotFound, name)
	}
	created, err := publish(tmp, final)
	if err != nil {
		return err
	}
	return syncDirs(append([]string{filepath.Dir(final)}, created...))
}

// Put writes r to a temp file and renames it to key's path.
func (d *DirBackend) Put(key string, r io.Reader) error {
	f, err := os.CreateTemp(d.tmp, "stage-derived-*")
	if err != nil {
		return err
	}
	if err := writeFile(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	final := d.path(key)
	dir := filepath.Dir(final)
	created, err := mkdirAll(dir)
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDirs(append([]string{dir}, created...))
}

func (d *DirBackend) Open(key string) (Object, error) { return openFile(d.path(key), key) }

func (d *DirBackend) Stat(key string) (int64, time.Time, error) {
	fi, err := os.Stat(d.path(key))
	if err != nil {
		return 0, time.Time{}, notFound(key, err)
	}
	return fi.Size(), fi.ModTime(), nil
}

// Remove deletes key's file. Fan-out directories are left in place:
// removing them could race with a concurrent publish into them.
func (d *DirBackend) Remove(key string) error {
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (d *DirBackend) RemovePrefix(prefix string) error { return os.RemoveAll(d.path(prefix)) }

// Walk visits the regular files under prefix, in lexical order, skipping
// blobs/tmp.
func (d *DirBackend) Walk(prefix string, fn func(key string, size int64, modTime time.Time) error) error {
	root := d.path(prefix)
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		if e.IsDir() {
			if p == d.tmp {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		rel, err := filepath.Rel(d.dir, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), fi.Size(), fi.ModTime())
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// CleanStaged removes "stage-*" files in blobs/tmp older than olderThan,
// going on past individual errors.
func (d *DirBackend) CleanStaged(olderThan time.Duration) (int, error) {
	entries, err := readDir(d.tmp)
	if err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-olderThan)
	var n int
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), "stage-") {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.ModTime().Before(cutoff) {
			continue
		}
		err = os.Remove(filepath.Join(d.tmp, e.Name()))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// Ping checks the staging directory is there.
func (d *DirBackend) Ping(context.Context) error {
	_, err := os.Stat(d.tmp)
	return err
}

// publish renames tmp to final, creating the fan-out directories. It
// returns the parents whose entries changed, innermost first. A fan-out
// directory removed by another process between mkdir and rename makes the
// rename fail with ENOENT, so that is retried a few times.
func publish(tmp, final string) (created []string, err error) {
	leaf := filepath.Dir(final)
	for attempt := 0; attempt < 3; attempt++ {
		var c []string
		if c, err = mkdirAll(leaf); err != nil {
			return nil, err
		}
		created = append(created, c...)
		if err = os.Rename(tmp, final); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return created, err
}

// mkdirAll creates dir and its missing parents and returns the parents
// whose entries changed (they need an fsync), innermost first.
func mkdirAll(dir string) (created []string, err error) {
	if _, err := os.Stat(dir); err == nil {
		return nil, nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if created, err = mkdirAll(parent); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return append([]string{parent}, created...), nil
}

// syncDirs fsyncs dirs in order.
func syncDirs(dirs []string) error {
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readDir is os.ReadDir that treats a directory removed meanwhile as empty.
func readDir(dir string) ([]fs.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}
