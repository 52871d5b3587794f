package accounts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"docplat/errs"
)

// Service holds the account rules. Methods that change accounts take the
// acting user and enforce who may do what.
type Service struct {
	store         Store
	sessionTTL    time.Duration
	rightsChanged RightsChanged
	now           func() time.Time
	lines         sync.Map // department id -> DepartmentLine
}

// Options configure a Service.
type Options struct {
	SessionTTL time.Duration // lifetime of a login session; default 12h
	// RightsChanged (may be nil) is called before and after a change of a
	// user's role, department or disabled flag and a user's deletion.
	RightsChanged RightsChanged
}

// NewService returns the account service over store.
func NewService(store Store, opt Options) *Service {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	return &Service{store: store, sessionTTL: opt.SessionTTL, rightsChanged: opt.RightsChanged, now: func() time.Time { return time.Now().UTC() }}
}

// Session is the result of a successful login.
type Session struct {
	Token     string // the bearer secret, shown once
	ExpiresAt time.Time
	User      User
}

// Login checks a username and password and opens a session: an
// errs.BadRequest error when either is missing, ErrBadCredentials when they
// do not match an enabled user (never saying which).
func (s *Service) Login(ctx context.Context, username, password string) (Session, error) {
	username = NormalizeUsername(username)
	if username == "" || password == "" {
		return Session{}, invalid("username and password are required")
	}
	u, err := s.store.UserByUsername(ctx, username)
	if errors.Is(err, ErrNotFound) {
		passwordMatches("", password)
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, err
	}
	if !passwordMatches(u.PasswordHash, password) || u.Disabled {
		return Session{}, ErrBadCredentials
	}
	secret, t, err := s.issue(ctx, u, TokenSession, "login", s.sessionTTL)
	if err != nil {
		return Session{}, err
	}
	return Session{Token: secret, ExpiresAt: t.ExpiresAt, User: u}, nil
}

// maxAPITokenTTL bounds API tokens; a leaked token must die eventually.
const maxAPITokenTTL = 366 * 24 * time.Hour

// RecentSignIn is how old the session that creates an API token may be: a
// stolen session (or one left open on a shared computer) must not turn into
// a credential that outlives it by a year.
const RecentSignIn = 10 * time.Minute

// The refusals of CreateAPIToken that the caller can act on.
var (
	ErrSignInAgain     = errs.New(errs.Forbidden, "creating an API token needs a recent sign-in: sign in again (POST /api/v1/auth/login) and create the token with that session within 10 minutes")
	ErrTokenMintsToken = errs.New(errs.Forbidden, "an API token cannot create API tokens: sign in with your password and create the token with that session")
)

// CreateAPIToken issues a named long-lived token for the user, who
// authenticated with via: ErrTokenMintsToken when via is an API token,
// ErrSignInAgain when it is a session older than RecentSignIn, an
// errs.BadRequest error for a bad name or lifetime.
func (s *Service) CreateAPIToken(ctx context.Context, u User, via Token, name string, ttl time.Duration) (Token, string, error) {
	if via.Kind != TokenSession {
		return Token{}, "", ErrTokenMintsToken
	}
	if s.now().Sub(via.CreatedAt) > RecentSignIn {
		return Token{}, "", ErrSignInAgain
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return Token{}, "", invalid("name is required (at most 200 characters)")
	}
	if ttl <= 0 || ttl > maxAPITokenTTL {
		return Token{}, "", invalid("expires_in_s must be between 1 and %d", int(maxAPITokenTTL.Seconds()))
	}
	secret, t, err := s.issue(ctx, u, TokenAPI, name, ttl)
	return t, secret, err
}

func (s *Service) issue(ctx context.Context, u User, kind TokenKind, name string, ttl time.Duration) (string, Token, error) {
	secret := newSecret()
	now := s.now()
	t := Token{ID: NewID(), UserID: u.ID, Kind: kind, Name: name, Hash: HashToken(secret), ExpiresAt: now.Add(ttl), CreatedAt: now}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// Authenticate resolves a bearer secret to its user and token:
// ErrUnauthorized for an unknown, expired or disabled user's token.
func (s *Service) Authenticate(ctx context.Context, secret string) (User, Token, error) {
	if secret == "" || len(secret) > 200 {
		return User{}, Token{}, ErrUnauthorized
	}
	t, u, err := s.store.TokenByHash(ctx, HashToken(secret))
	if errors.Is(err, ErrNotFound) {
		return User{}, Token{}, ErrUnauthorized
	}
	if err != nil {
		return User{}, Token{}, err
	}
	if !s.now().Before(t.ExpiresAt) || u.Disabled {
		return User{}, Token{}, ErrUnauthorized
	}
	return u, t, nil
}

// Logout revokes the token the caller authenticated with.
func (s *Service) Logout(ctx context.Context, t Token) error {
	return s.store.DeleteToken(ctx, t)
}

// PurgeExpiredTokens removes tokens that can no longer authenticate.
func (s *Service) PurgeExpiredTokens(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredTokens(ctx, s.now())
}

// EnsureAdmin creates the user "admin" when no enabled administrator exists
// (a first start, even if users were added from the command line before).
// If password is empty one is generated and returned so it can be shown once.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (created bool, generated string, err error) {
	n, err := s.store.CountUsers(ctx, RoleAdmin)
	if err != nil || n > 0 {
		return false, "", err
	}
	if password == "" {
		generated = newSecret()[3:23]
		password = generated
	}
	_, err = s.createUser(ctx, NewUser{Username: "admin", Password: password, DisplayName: "Administrator", Role: RoleAdmin})
	if errors.Is(err, ErrConflict) { // another instance won the race
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	return true, generated, nil
}
