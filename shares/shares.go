// Package shares is share links: a bearer URL that lets anyone holding it
// read one document's current content until it expires, is revoked or is
// used up, optionally behind a password. Only the SHA-256 of a link's token
// is stored; its password is hashed like user passwords (accounts). Who may
// create, list and revoke links is docs' decision (PermManage).
package shares

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"docplat/accounts"
	"docplat/docs"
	"docplat/errs"
)

// Link is a share link as stored (never its token).
type Link struct {
	ID           string     `json:"id"`
	DocumentID   string     `json:"document_id"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	MaxDownloads int64      `json:"max_downloads,omitempty"` // 0: no limit
	Downloads    int64      `json:"downloads"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	TokenHash    string     `json:"-"`
	PasswordHash string     `json:"-"`
}

// HasPassword reports whether the link asks for a password.
func (l Link) HasPassword() bool { return l.PasswordHash != "" }

// Revoked reports whether the link was revoked.
func (l Link) Revoked() bool { return l.RevokedAt != nil }

// usable reports whether the link may still serve at now (the database's
// conditional update decides the download limit exactly; this is the
// cheap early answer).
func (l Link) usable(now time.Time) bool {
	return !l.Revoked() && now.Before(l.ExpiresAt) && (l.MaxDownloads == 0 || l.Downloads < l.MaxDownloads)
}

// Store persists links (sqlstore.ShareLinks).
type Store interface {
	CreateShare(ctx context.Context, l Link) error
	ShareByTokenHash(ctx context.Context, hash string) (Link, error)
	ShareByID(ctx context.Context, id string) (Link, error)
	SharesOf(ctx context.Context, documentID string) ([]Link, error)
	// RevokeShare marks the link revoked (idempotent).
	RevokeShare(ctx context.Context, id string, at time.Time) error
	// CountShareDownload adds one download if the link is unrevoked,
	// unexpired at now and under its limit, in one conditional UPDATE, and
	// reports whether it did.
	CountShareDownload(ctx context.Context, id string, now time.Time) (bool, error)
}

// Limiter bounds password guesses per link across instances.
type Limiter interface {
	// Allow counts one guess at key and reports whether it may proceed,
	// and if not when to retry.
	Allow(ctx context.Context, key string) (bool, time.Duration, error)
	// Reset forgets key's guesses (after the right password).
	Reset(ctx context.Context, key string) error
}

// Errors beside docs' (ErrNotFound answers every unusable link).
var (
	// ErrNotFound: no such link, or it expired, was revoked or is used up.
	ErrNotFound = errs.New(errs.NotFound, "share link not found (unknown, expired, revoked or used up)")
	// ErrPassword: the link needs a password and none or a wrong one was given.
	ErrPassword = errs.New(errs.Unauthorized, "this share link needs its password (X-Share-Password or ?password=)")
	// ErrGuessing: too many wrong passwords for this link; see RetryAfter.
	ErrGuessing = errs.New(errs.RateLimited, "too many password attempts for this share link; retry later")
)

// Bounds of a link's life.
const (
	MinLife = time.Minute
	MaxLife = 365 * 24 * time.Hour
)

// Edge is an nginx hot tier (nginx.Client) that answers links without
// password and without download limit to hot documents itself.
type Edge interface {
	PushShare(ctx context.Context, linkID, key, documentID string, expires time.Time) error
	DropShare(ctx context.Context, linkID string) error
}

// Service creates, lists, revokes and opens share links.
type Service struct {
	store   Store
	docs    *docs.Service
	limiter Limiter
	opt     Options
	now     func() time.Time
}

// Options of a Service; Now defaults to the wall clock (UTC).
type Options struct {
	Now    func() time.Time
	Edges  []Edge
	Logger *slog.Logger
}

// New returns the share link service.
func New(store Store, d *docs.Service, limiter Limiter, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = func() time.Time { return time.Now().UTC() }
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{store: store, docs: d, limiter: limiter, opt: opt, now: opt.Now}
}

// ErrEdgeRevoke: the link is revoked, but a hot tier could not be told.
var ErrEdgeRevoke = errs.New(errs.Unavailable, "the link is revoked, but an nginx hot tier could not be told yet; repeat the request")

// EdgeKey is how a hot tier knows a token: its SHA-1, in hex (nginx
// computes SHA-1 natively). Only the token's holder can produce it.
func EdgeKey(token string) string {
	sum := sha1.Sum([]byte(token))
	return fmt.Sprintf("%x", sum)
}

// edgeServable reports whether a hot tier may answer l: nothing to check
// (a password) and nothing to count (a limit).
func (l Link) edgeServable() bool { return !l.HasPassword() && l.MaxDownloads == 0 }

// NewLink is what a creator asks for.
type NewLink struct {
	ExpiresIn    time.Duration
	Password     string
	MaxDownloads int64
}

// Created is a new link with its token, which is shown this once.
type Created struct {
	Link
	Token string
}

// Create makes a link to a document the actor may manage.
func (s *Service) Create(ctx context.Context, a docs.Actor, documentID string, in NewLink) (Created, error) {
	if a.Anonymous() {
		return Created{}, docs.ErrUnauthorized
	}
	if in.ExpiresIn < MinLife || in.ExpiresIn > MaxLife {
		return Created{}, errs.New(errs.BadRequest, "expires_in_s must be between 60 and 31536000 (one year)")
	}
	if in.MaxDownloads < 0 {
		return Created{}, errs.New(errs.BadRequest, "max_downloads must be positive")
	}
	d, err := s.docs.Authorize(ctx, a, documentID, docs.PermManage)
	if err != nil {
		return Created{}, err
	}
	now := s.now()
	token := NewToken()
	l := Link{ID: accounts.NewID(), DocumentID: d.ID, CreatedBy: a.UserID, CreatedAt: now,
		ExpiresAt: now.Add(in.ExpiresIn).Truncate(time.Second), MaxDownloads: in.MaxDownloads, TokenHash: HashToken(token)}
	if in.Password != "" {
		if l.PasswordHash, err = accounts.HashPassword(in.Password); err != nil {
			return Created{}, err
		}
	}
	if err := s.store.CreateShare(ctx, l); err != nil {
		return Created{}, err
	}
	if l.edgeServable() {
		// A failed push only leaves the link to the app, which always answers right.
		for _, e := range s.opt.Edges {
			if err := e.PushShare(ctx, l.ID, EdgeKey(token), l.DocumentID, l.ExpiresAt); err != nil {
				s.opt.Logger.WarnContext(ctx, "share link not pushed to nginx (the app answers it)", "link_id", l.ID, "err", err)
			}
		}
	}
	return Created{Link: l, Token: token}, nil
}

// List returns a document's links, for an actor who may manage it.
func (s *Service) List(ctx context.Context, a docs.Actor, documentID string) ([]Link, error) {
	if _, err := s.docs.Authorize(ctx, a, documentID, docs.PermManage); err != nil {
		return nil, err
	}
	return s.store.SharesOf(ctx, documentID)
}

// Revoke revokes the link named by its token or its id: ErrNotFound when
// there is none or the actor may not read its document, docs.ErrForbidden
// when it may read but not manage it.
func (s *Service) Revoke(ctx context.Context, a docs.Actor, tokenOrID string) (Link, error) {
	if a.Anonymous() {
		return Link{}, docs.ErrUnauthorized
	}
	l, err := s.store.ShareByTokenHash(ctx, HashToken(tokenOrID))
	if errors.Is(err, ErrNotFound) {
		l, err = s.store.ShareByID(ctx, tokenOrID)
	}
	if err != nil {
		return Link{}, err
	}
	if _, err := s.docs.Authorize(ctx, a, l.DocumentID, docs.PermManage); err != nil {
		if errors.Is(err, docs.ErrNotFound) {
			return Link{}, ErrNotFound
		}
		return Link{}, err
	}
	if err := s.store.RevokeShare(ctx, l.ID, s.now()); err != nil {
		return Link{}, err
	}
	// Every hot tier must stop answering it before the revocation is
	// confirmed; a repeat of the request tells the ones that failed.
	var failed error
	for _, e := range s.opt.Edges {
		if err := e.DropShare(ctx, l.ID); err != nil {
			s.opt.Logger.WarnContext(ctx, "share link revoked, nginx not told", "link_id", l.ID, "err", err)
			failed = errors.Join(failed, err)
		}
	}
	if failed != nil {
		return Link{}, fmt.Errorf("%w: %w", ErrEdgeRevoke, failed)
	}
	return l, nil
}

// Open resolves a token to its usable link and the document it shares,
// checking the password (rate-limited per link) unless granted says the
// caller already proved it for this link and document. Unknown, forged,
// truncated, expired, revoked and used-up tokens are ErrNotFound.
func (s *Service) Open(ctx context.Context, token, password string, granted func(Link, docs.Document) bool) (Link, docs.Document, error) {
	if !wellFormed(token) {
		return Link{}, docs.Document{}, ErrNotFound
	}
	l, err := s.store.ShareByTokenHash(ctx, HashToken(token))
	if err != nil {
		return Link{}, docs.Document{}, err
	}
	if !l.usable(s.now()) {
		return Link{}, docs.Document{}, ErrNotFound
	}
	d, err := s.docs.GetSystem(ctx, l.DocumentID) // the link is the permission
	if errors.Is(err, docs.ErrNotFound) {
		return Link{}, docs.Document{}, ErrNotFound
	}
	if err != nil {
		return Link{}, docs.Document{}, err
	}
	// ... but not before the document is published: a link stands for an
	// anonymous reader, who may not see it yet.
	if !d.Published(s.now()) {
		return Link{}, docs.Document{}, ErrNotFound
	}
	if l.HasPassword() && (granted == nil || !granted(l, d)) {
		if err := s.checkPassword(ctx, l, password); err != nil {
			return Link{}, docs.Document{}, err
		}
	}
	return l, d, nil
}

func (s *Service) checkPassword(ctx context.Context, l Link, password string) error {
	if password == "" {
		return ErrPassword // asking is free: the landing page's first visit
	}
	key := "share:" + l.ID
	ok, retry, err := s.limiter.Allow(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		return &RetryError{Err: ErrGuessing, After: retry}
	}
	if !accounts.PasswordMatches(l.PasswordHash, password) {
		return ErrPassword
	}
	return s.limiter.Reset(ctx, key)
}

// RetryError is ErrGuessing with the time to wait.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// CountDownload records one download of l, exactly: false (ErrNotFound)
// when the link was used up, revoked or expired meanwhile, by any instance.
func (s *Service) CountDownload(ctx context.Context, l Link) error {
	ok, err := s.store.CountShareDownload(ctx, l.ID, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// tokenBytes is a token's entropy; its text is base64url without padding.
const tokenBytes = 32

var tokenEncoding = base64.RawURLEncoding

// NewToken returns a fresh random token.
func NewToken() string {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:])
	return tokenEncoding.EncodeToString(b[:])
}

// HashToken is the stored form of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed spares the database lookups of tokens that cannot exist.
func wellFormed(token string) bool {
	b, err := tokenEncoding.DecodeString(token)
	return err == nil && len(b) == tokenBytes
}
