// Package uploadlinks is upload links, a homework box: a member hands out
// a link through which anyone uploads files without an account. The
// documents belong to the link's creator, are private, carry the link's
// tags and "upload-link:<id>", and are charged to the creator's department
// through the same three-phase commit as any upload. Nothing uploaded
// through a link is readable through it. The link's limits (files, bytes)
// are reserved by the documents participant (docs.UploadLinkRef), exact
// under any concurrency.
package uploadlinks

import (
	"context"
	"errors"
	"time"

	"docplat/accounts"
	"docplat/docs"
	"docplat/errs"
	"docplat/shares"
)

// Link is an upload link as stored (never its token).
type Link struct {
	ID            string     `json:"id"`
	CreatedBy     string     `json:"created_by"`
	Title         string     `json:"title"`
	Tags          []string   `json:"tags"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	MaxFiles      int64      `json:"max_files"`
	MaxFileBytes  int64      `json:"max_file_bytes"`
	MaxTotalBytes int64      `json:"max_total_bytes"`
	Files         int64      `json:"files"`
	Bytes         int64      `json:"bytes"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	TokenHash     string     `json:"-"`
	PasswordHash  string     `json:"-"`
}

// HasPassword reports whether the link asks for a password.
func (l Link) HasPassword() bool { return l.PasswordHash != "" }

// Tag is the tag every document uploaded through the link carries.
func (l Link) Tag() string { return "upload-link:" + l.ID }

func (l Link) usable(now time.Time) bool {
	return l.RevokedAt == nil && now.Before(l.ExpiresAt) && l.Files < l.MaxFiles
}

// Store persists links (sqlstore.UploadLinks); missing ones are
// docs.ErrUploadLinkGone.
type Store interface {
	CreateUploadLink(ctx context.Context, l Link) error
	UploadLinkByTokenHash(ctx context.Context, hash string) (Link, error)
	UploadLinkByID(ctx context.Context, id string) (Link, error)
	UploadLinksOf(ctx context.Context, creator string) ([]Link, error)
	RevokeUploadLink(ctx context.Context, id string, at time.Time) error
}

// Limiter bounds password guesses per link across instances
// (shares.RedisLimiter).
type Limiter = shares.Limiter

// ErrPassword: the link needs its password.
var ErrPassword = errs.New(errs.Unauthorized, "this upload link needs its password (X-Upload-Password or the 'password' field)")

// ErrFileTooLarge: the file passes the link's per-file limit.
var ErrFileTooLarge = errs.New(errs.TooLarge, "the file is larger than this upload link allows per file")

// Service creates, lists, revokes and uploads through links.
type Service struct {
	store    Store
	accounts *accounts.Service
	docs     *docs.Service
	limiter  Limiter
	now      func() time.Time
}

// New returns the upload link service.
func New(store Store, acc *accounts.Service, d *docs.Service, limiter Limiter) *Service {
	return &Service{store: store, accounts: acc, docs: d, limiter: limiter, now: func() time.Time { return time.Now().UTC() }}
}

// NewLink is what a creator asks for; zero byte limits take the upload
// size limit per file and MaxFiles of them in total.
type NewLink struct {
	Title         string
	Tags          []string
	ExpiresIn     time.Duration
	Password      string
	MaxFiles      int64
	MaxFileBytes  int64
	MaxTotalBytes int64
}

// Created is a new link with its token, shown this once.
type Created struct {
	Link
	Token string
}

// MaxFiles bounds a link's max_files.
const MaxFiles = 10000

// uploaders are the roles that may create links: members and above (a
// reader uploads only through a link).
func uploader(u accounts.User) bool {
	switch u.Role {
	case accounts.RoleAdmin, accounts.RoleDeptAdmin, accounts.RoleMember:
		return !u.Disabled
	}
	return false
}

// Create makes a link for u.
func (s *Service) Create(ctx context.Context, u accounts.User, in NewLink) (Created, error) {
	if !uploader(u) {
		return Created{}, docs.ErrForbidden
	}
	title, err := docs.CheckTitle(in.Title)
	if err != nil {
		return Created{}, err
	}
	tags, err := docs.NormalizeTags(in.Tags)
	if err != nil {
		return Created{}, err
	}
	maxUpload := s.docs.MaxUploadBytes()
	switch {
	case len(tags) > docs.MaxTags-1:
		return Created{}, errs.Errorf(errs.BadRequest, "at most %d tags (the link's own tag is added)", docs.MaxTags-1)
	case in.ExpiresIn < shares.MinLife || in.ExpiresIn > shares.MaxLife:
		return Created{}, errs.New(errs.BadRequest, "expires_in_s must be between 60 and 31536000 (one year)")
	case in.MaxFiles < 1 || in.MaxFiles > MaxFiles:
		return Created{}, errs.Errorf(errs.BadRequest, "max_files must be between 1 and %d", MaxFiles)
	case in.MaxFileBytes < 0 || in.MaxFileBytes > maxUpload:
		return Created{}, errs.Errorf(errs.BadRequest, "max_file_bytes must be between 1 and the upload limit (%d)", maxUpload)
	case in.MaxTotalBytes < 0:
		return Created{}, errs.New(errs.BadRequest, "max_total_bytes must be positive")
	}
	if in.MaxFileBytes == 0 {
		in.MaxFileBytes = maxUpload
	}
	if in.MaxTotalBytes == 0 {
		in.MaxTotalBytes = in.MaxFiles * in.MaxFileBytes
	}
	now := s.now()
	token := shares.NewToken()
	l := Link{ID: accounts.NewID(), CreatedBy: u.ID, Title: title, Tags: tags, CreatedAt: now,
		ExpiresAt: now.Add(in.ExpiresIn).Truncate(time.Second), MaxFiles: in.MaxFiles, MaxFileBytes: in.MaxFileBytes,
		MaxTotalBytes: in.MaxTotalBytes, TokenHash: shares.HashToken(token)}
	if in.Password != "" {
		if l.PasswordHash, err = accounts.HashPassword(in.Password); err != nil {
			return Created{}, err
		}
	}
	if err := s.store.CreateUploadLink(ctx, l); err != nil {
		return Created{}, err
	}
	return Created{Link: l, Token: token}, nil
}

// List returns u's links with their counts.
func (s *Service) List(ctx context.Context, u accounts.User) ([]Link, error) {
	return s.store.UploadLinksOf(ctx, u.ID)
}

// Revoke revokes one of u's links (an admin may revoke any);
// docs.ErrUploadLinkGone for others' links.
func (s *Service) Revoke(ctx context.Context, u accounts.User, id string) (Link, error) {
	l, err := s.store.UploadLinkByID(ctx, id)
	if err != nil {
		return Link{}, err
	}
	if l.CreatedBy != u.ID && u.Role != accounts.RoleAdmin {
		return Link{}, docs.ErrUploadLinkGone
	}
	return l, s.store.RevokeUploadLink(ctx, id, s.now())
}

// Open resolves a token to its usable link; the password is checked when
// checkPassword (the upload page shows without it).
func (s *Service) Open(ctx context.Context, token, password string, checkPassword bool) (Link, error) {
	l, err := s.store.UploadLinkByTokenHash(ctx, shares.HashToken(token))
	if err != nil {
		return Link{}, err
	}
	if !l.usable(s.now()) {
		return Link{}, docs.ErrUploadLinkGone
	}
	if !checkPassword || !l.HasPassword() {
		return l, nil
	}
	if password == "" {
		return Link{}, ErrPassword
	}
	key := "upload:" + l.ID
	ok, retry, err := s.limiter.Allow(ctx, key)
	if err != nil {
		return Link{}, err
	}
	if !ok {
		return Link{}, &shares.RetryError{Err: shares.ErrGuessing, After: retry}
	}
	if !accounts.PasswordMatches(l.PasswordHash, password) {
		return Link{}, ErrPassword
	}
	return l, s.limiter.Reset(ctx, key)
}

// Upload makes st a private document of the link's creator, charged to the
// link (docs.UploadLinkRef) and to the creator's department.
func (s *Service) Upload(ctx context.Context, l Link, st *docs.Staged) (docs.Document, error) {
	switch {
	case st.Size() > l.MaxFileBytes:
		return docs.Document{}, ErrFileTooLarge
	case l.Bytes+st.Size() > l.MaxTotalBytes:
		return docs.Document{}, docs.ErrUploadLinkBytes // early; the participant's reservation is exact
	}
	creator, err := s.accounts.UserSystem(ctx, l.CreatedBy)
	if errors.Is(err, accounts.ErrNotFound) || err == nil && !uploader(creator) {
		return docs.Document{}, docs.ErrUploadLinkGone // the creator left or lost the right: the box is closed
	}
	if err != nil {
		return docs.Document{}, err
	}
	a := docs.Actor{UserID: creator.ID, DepartmentID: creator.DepartmentID, Admin: creator.Role == accounts.RoleAdmin,
		DeptAdmin: creator.Role == accounts.RoleDeptAdmin, Reader: creator.Role == accounts.RoleReader}
	ctx = docs.WithUploadLink(ctx, docs.UploadLinkRef{ID: l.ID, Size: st.Size()})
	return s.docs.Create(ctx, a, docs.NewDocument{Tags: append(append([]string{}, l.Tags...), l.Tag()), Visibility: docs.Private}, st)
}
