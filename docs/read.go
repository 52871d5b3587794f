package docs

import (
	"context"
	"errors"
	"fmt"
	"os"

	"docplat/blob"
)

// Get returns a document the actor may read.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Document, error) {
	d, err := s.repo.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if !canRead(actor, d) {
		return Document{}, ErrNotFound
	}
	return d, nil
}

// Content opens a version's bytes (0: the current one). The caller closes the file.
func (s *Service) Content(ctx context.Context, actor Actor, id string, version int) (Document, Version, *os.File, error) {
	d, err := s.Get(ctx, actor, id)
	if err != nil {
		return Document{}, Version{}, nil, err
	}
	v := Version{DocumentID: d.ID, Version: d.Version, Size: d.Size, SHA256: d.SHA256, Mime: d.Mime, Filename: d.Filename, CreatedAt: d.UpdatedAt}
	if version != 0 && version != d.Version {
		if v, err = s.repo.Version(ctx, id, version); err != nil {
			return Document{}, Version{}, nil, err
		}
	}
	f, err := s.blobs.Open(v.SHA256)
	if errors.Is(err, blob.ErrNotFound) {
		// A row without its blob breaks the store's invariant: say so loudly.
		s.log.ErrorContext(ctx, "blob missing for document version", "document_id", id, "version", v.Version, "sha256", v.SHA256)
		return Document{}, Version{}, nil, fmt.Errorf("blob %s of document %s is missing", v.SHA256, id)
	}
	if err != nil {
		return Document{}, Version{}, nil, err
	}
	return d, v, f, nil
}

// Versions lists a readable document's versions, newest first.
func (s *Service) Versions(ctx context.Context, actor Actor, id string) ([]Version, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.repo.Versions(ctx, id)
}
