package docs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"docplat/blob"
	"docplat/cache"
)

// Get returns a document the actor may read: ErrNotFound when there is
// none or the actor may not read it (no existence leak).
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Document, error) {
	return s.Authorize(ctx, actor, id, PermRead)
}

// Body is content to serve: seekable for Range requests, closed when done.
type Body interface {
	io.ReadSeeker
	io.Closer
}

type memBody struct{ *bytes.Reader }

func (memBody) Close() error { return nil }

// Content opens a version's bytes (0: the current one). The caller closes
// the body. ErrNotFound for a document the actor may not read or a version
// that does not exist.
func (s *Service) Content(ctx context.Context, actor Actor, id string, version int) (Document, Version, Body, error) {
	d, err := s.Get(ctx, actor, id)
	if err != nil {
		return Document{}, Version{}, nil, err
	}
	return s.content(ctx, d, version)
}

// ContentSystem is Content for the platform itself, with no actor's rights
// applied (like GetSystem): for a caller that decided the permission
// already, e.g. a share link.
func (s *Service) ContentSystem(ctx context.Context, id string, version int) (Document, Version, Body, error) {
	d, err := s.GetSystem(ctx, id)
	if err != nil {
		return Document{}, Version{}, nil, err
	}
	return s.content(ctx, d, version)
}

// content opens version (0: the current one) of d.
func (s *Service) content(ctx context.Context, d Document, version int) (Document, Version, Body, error) {
	id := d.ID
	var err error
	v := currentVersion(d)
	if version != 0 && version != d.Version {
		if v, err = s.repo.Version(ctx, id, version); err != nil {
			return Document{}, Version{}, nil, err
		}
	}
	if s.opt.ContentCache != nil && v.Size <= s.opt.MaxCachedContent {
		b, err := s.cachedContent(ctx, v.SHA256)
		if err != nil {
			return Document{}, Version{}, nil, err
		}
		return d, v, memBody{bytes.NewReader(b)}, nil
	}
	f, err := s.openBlob(ctx, id, v)
	if err != nil {
		return Document{}, Version{}, nil, err
	}
	return d, v, f, nil
}

// cachedContent reads small content through the cache. Content is addressed
// by its hash, so it never changes and never needs invalidation.
func (s *Service) cachedContent(ctx context.Context, sha string) ([]byte, error) {
	e, err := s.opt.ContentCache.Get(ctx, "blob:"+sha, func(ctx context.Context) (cache.Entry, error) {
		f, err := s.blobs.Open(sha)
		if err != nil {
			return cache.Entry{}, err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		return cache.Entry{Version: 1, Value: b}, err
	})
	if err != nil {
		return nil, fmt.Errorf("content %s: %w", sha, err)
	}
	return e.Value, nil
}

func (s *Service) openBlob(ctx context.Context, id string, v Version) (blob.Object, error) {
	f, err := s.blobs.Open(v.SHA256)
	if errors.Is(err, blob.ErrNotFound) {
		// A row without its blob breaks the store's invariant: say so loudly.
		s.log.ErrorContext(ctx, "blob missing for document version", "document_id", id, "version", v.Version, "sha256", v.SHA256)
		return nil, fmt.Errorf("blob %s of document %s is missing", v.SHA256, id)
	}
	return f, err
}

// Versions lists a readable document's versions, newest first (ErrNotFound as Get).
func (s *Service) Versions(ctx context.Context, actor Actor, id string) ([]Version, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.repo.Versions(ctx, id)
}
