package docs

import (
	"context"

	"docplat/errs"
)

// UploadLinkRef charges an upload to an upload link: the documents
// participant reserves one file and Size bytes of the link's limits when it
// votes (a conditional UPDATE, so that concurrent uploads on any instance
// never pass them) and releases them if the transaction aborts. The link's
// counts therefore always match the documents committed through it (a
// document deleted later still counted: the link was used).
type UploadLinkRef struct {
	ID   string `json:"id"`
	Size int64  `json:"size"`
}

// Votes of the documents participant on an upload through a link.
const (
	ReasonUploadLinkUsedUp = "upload_link_used_up" // revoked, expired or out of files
	ReasonUploadLinkBytes  = "upload_link_bytes"   // the file would pass the link's total bytes
)

var (
	// ErrUploadLinkGone: the upload link is unknown, expired, revoked or used up.
	ErrUploadLinkGone = errs.New(errs.NotFound, "upload link not found (unknown, expired, revoked or used up)")
	// ErrUploadLinkBytes: the file is larger than what the link has left.
	ErrUploadLinkBytes = errs.New(errs.TooLarge, "the file is larger than what the upload link has left")
)

type uploadLinkCtxKey struct{}

// WithUploadLink returns ctx under which Create charges the upload to the link.
func WithUploadLink(ctx context.Context, ref UploadLinkRef) context.Context {
	return context.WithValue(ctx, uploadLinkCtxKey{}, ref)
}

func uploadLinkFrom(ctx context.Context) *UploadLinkRef {
	if ref, ok := ctx.Value(uploadLinkCtxKey{}).(UploadLinkRef); ok {
		return &ref
	}
	return nil
}

// NormalizeTags checks and normalizes tags as uploads do (trimmed, without
// duplicates, bounded), for callers that keep tags to apply later.
func NormalizeTags(tags []string) ([]string, error) { return normalizeTags(tags) }

// CheckTitle checks a title as uploads do and returns it trimmed.
func CheckTitle(title string) (string, error) { return checkTitle(title) }

// MaxTags is how many tags a document may carry.
const MaxTags = maxTags
