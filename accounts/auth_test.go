package accounts

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"docplat/errs"
)

func TestLoginWithRightPasswordOpensSession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, err := f.svc.Login(ctx, f.memberA.Username, testPassword)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if !strings.HasPrefix(s.Token, "dp_") || len(s.Token) < 40 {
		t.Errorf("session token = %q, want a dp_ secret", s.Token)
	}
	if want := t0.Add(sessionTTL); !s.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", s.ExpiresAt, want)
	}
	if s.User.ID != f.memberA.ID {
		t.Errorf("session user = %q, want %q", s.User.ID, f.memberA.ID)
	}
	u, tok, err := f.svc.Authenticate(ctx, s.Token)
	if err != nil {
		t.Fatalf("Authenticate(session token): %v", err)
	}
	if u.ID != f.memberA.ID || tok.Kind != TokenSession || tok.Hash != HashToken(s.Token) {
		t.Errorf("Authenticate = user %q, token %+v; want %q, a session token with the secret's hash", u.ID, tok, f.memberA.ID)
	}
}

func TestLoginDefaultSessionTTLIs12Hours(t *testing.T) {
	svc := NewService(newFakeStore(), Options{})
	if svc.sessionTTL != 12*time.Hour {
		t.Errorf("default session TTL = %v, want 12h", svc.sessionTTL)
	}
}

func TestLoginRejects(t *testing.T) {
	cases := []struct {
		name     string
		username string
		password string
		disable  bool
		want     error
	}{
		{"wrong password", "carol", "not-the-password", false, ErrBadCredentials},
		{"unknown user", "nobody", testPassword, false, ErrBadCredentials},
		{"disabled user with right password", "carol", testPassword, true, ErrBadCredentials},
		{"empty username", "", testPassword, false, errInvalid},
		{"empty password", "carol", "", false, errInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.disable {
				f.store.setDisabled(f.memberA.ID, true)
			}
			s, err := f.svc.Login(context.Background(), tc.username, tc.password)
			checkErr(t, "Login", err, tc.want)
			if s.Token != "" {
				t.Errorf("failed Login returned token %q", s.Token)
			}
			if n := f.store.tokenCount(); n != 0 {
				t.Errorf("failed Login stored %d tokens, want 0", n)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	cases := []struct {
		name   string
		secret func(issued string) string
		before func(f *fixture)
		want   error
	}{
		{"valid token", func(s string) string { return s }, nil, nil},
		{"one nanosecond before expiry", func(s string) string { return s },
			func(f *fixture) { f.now = t0.Add(time.Hour - time.Nanosecond) }, nil},
		{"empty token", func(string) string { return "" }, nil, ErrUnauthorized},
		{"garbage", func(string) string { return "garbage" }, nil, ErrUnauthorized},
		{"well-formed unknown token", func(string) string { return newSecret() }, nil, ErrUnauthorized},
		{"token with a changed character", func(s string) string { return s[:len(s)-1] + "x" }, nil, ErrUnauthorized},
		{"over 200 characters", func(s string) string { return s + strings.Repeat("a", 201) }, nil, ErrUnauthorized},
		{"expired exactly at ExpiresAt", func(s string) string { return s },
			func(f *fixture) { f.now = t0.Add(time.Hour) }, ErrUnauthorized},
		{"expired long ago", func(s string) string { return s },
			func(f *fixture) { f.now = t0.Add(48 * time.Hour) }, ErrUnauthorized},
		{"disabled user's token", func(s string) string { return s },
			func(f *fixture) { f.store.setDisabled(f.memberA.ID, true) }, ErrUnauthorized},
		{"token whose user row is gone", func(s string) string { return s },
			func(f *fixture) { delete(f.store.users, f.memberA.ID) }, ErrUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			issued, secret, err := f.svc.CreateAPIToken(ctx, f.memberA, f.freshSession(), "ci", time.Hour)
			if err != nil {
				t.Fatalf("CreateAPIToken: %v", err)
			}
			if tc.before != nil {
				tc.before(f)
			}
			u, tok, err := f.svc.Authenticate(ctx, tc.secret(secret))
			checkErr(t, "Authenticate", err, tc.want)
			if tc.want != nil {
				if u.ID != "" || tok.ID != "" {
					t.Errorf("failed Authenticate returned user %q, token %q", u.ID, tok.ID)
				}
				return
			}
			if u.ID != f.memberA.ID || tok.ID != issued.ID {
				t.Errorf("Authenticate = user %q, token %q; want %q, %q", u.ID, tok.ID, f.memberA.ID, issued.ID)
			}
		})
	}
}

func TestLogoutRevokesOnlyThatToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, first, err := f.svc.CreateAPIToken(ctx, f.memberA, f.freshSession(), "first", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := f.svc.CreateAPIToken(ctx, f.memberA, f.freshSession(), "second", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := f.svc.Authenticate(ctx, first)
	if err != nil {
		t.Fatalf("Authenticate(first): %v", err)
	}
	if err := f.svc.Logout(ctx, tok); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, _, err := f.svc.Authenticate(ctx, first); err != ErrUnauthorized {
		t.Errorf("Authenticate(first) after Logout = %v, want ErrUnauthorized", err)
	}
	if _, _, err := f.svc.Authenticate(ctx, second); err != nil {
		t.Errorf("Authenticate(second) after logging out first = %v, want nil", err)
	}
	if err := f.svc.Logout(ctx, tok); err != nil {
		t.Errorf("second Logout of the same token = %v, want nil", err)
	}
}

func TestCreateAPIToken(t *testing.T) {
	cases := []struct {
		name     string
		tokName  string
		ttl      time.Duration
		want     error
		wantName string
	}{
		{"shortest ttl", "ci", time.Nanosecond, nil, "ci"},
		{"one day", "ci", 24 * time.Hour, nil, "ci"},
		{"longest ttl", "ci", maxAPITokenTTL, nil, "ci"},
		{"name is trimmed", "  deploy bot  ", time.Hour, nil, "deploy bot"},
		{"200-byte name", strings.Repeat("n", 200), time.Hour, nil, strings.Repeat("n", 200)},
		{"zero ttl", "ci", 0, errInvalid, ""},
		{"negative ttl", "ci", -time.Second, errInvalid, ""},
		{"ttl over 366 days", "ci", maxAPITokenTTL + time.Nanosecond, errInvalid, ""},
		{"empty name", "", time.Hour, errInvalid, ""},
		{"blank name", "   ", time.Hour, errInvalid, ""},
		{"201-byte name", strings.Repeat("n", 201), time.Hour, errInvalid, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			tok, secret, err := f.svc.CreateAPIToken(ctx, f.memberA, f.freshSession(), tc.tokName, tc.ttl)
			checkErr(t, "CreateAPIToken", err, tc.want)
			if tc.want != nil {
				if secret != "" || f.store.tokenCount() != 0 {
					t.Errorf("rejected CreateAPIToken returned secret %q and stored %d tokens", secret, f.store.tokenCount())
				}
				return
			}
			if tok.Kind != TokenAPI || tok.UserID != f.memberA.ID || tok.Name != tc.wantName {
				t.Errorf("token = %+v, want an api token named %q of %q", tok, tc.wantName, f.memberA.ID)
			}
			if !tok.ExpiresAt.Equal(t0.Add(tc.ttl)) || !tok.CreatedAt.Equal(t0) {
				t.Errorf("token created %v expires %v, want %v and %v", tok.CreatedAt, tok.ExpiresAt, t0, t0.Add(tc.ttl))
			}
			if tok.Hash != HashToken(secret) || strings.Contains(tok.Hash, secret) {
				t.Errorf("token hash %q is not HashToken(secret)", tok.Hash)
			}
			if _, _, err := f.svc.Authenticate(ctx, secret); err != nil {
				t.Errorf("Authenticate(new API token) = %v", err)
			}
		})
	}
}

func TestPurgeExpiredTokensKeepsLiveOnes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, short, err := f.svc.CreateAPIToken(ctx, f.memberA, f.freshSession(), "short", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, long, err := f.svc.CreateAPIToken(ctx, f.memberA, f.freshSession(), "long", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.now = t0.Add(time.Hour)
	n, err := f.svc.PurgeExpiredTokens(ctx)
	if err != nil || n != 1 {
		t.Fatalf("PurgeExpiredTokens = %d, %v; want 1, nil", n, err)
	}
	f.now = t0 // even with the clock back, the purged token is gone
	if _, _, err := f.svc.Authenticate(ctx, short); err != ErrUnauthorized {
		t.Errorf("purged token authenticates: %v", err)
	}
	if _, _, err := f.svc.Authenticate(ctx, long); err != nil {
		t.Errorf("live token after purge: %v", err)
	}
}

func TestEnsureAdmin(t *testing.T) {
	cases := []struct {
		name          string
		seeded        bool // the store already has users, an admin among them
		members       bool // the store has only a member, added from the command line
		password      string
		wantCreated   bool
		wantGenerated bool
		wantErr       error
	}{
		{"no users and no password: generates one", false, false, "", true, true, nil},
		{"no users and a password: uses it", false, false, "given-password-1", true, false, nil},
		{"no users and a too short password: invalid", false, false, "short", false, false, errInvalid},
		{"an admin exists: creates nothing", true, false, "", false, false, nil},
		{"only members exist: creates the admin", false, true, "given-password-1", true, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := &fixture{store: newFakeStore(), now: t0}
			if tc.seeded {
				f = newFixture(t)
			}
			if tc.members {
				if err := f.store.CreateUser(ctx, User{ID: NewID(), Username: "early", Role: RoleMember, PasswordHash: "x"}); err != nil {
					t.Fatal(err)
				}
			}
			svc := NewService(f.store, Options{})
			before, _ := f.store.CountUsers(ctx, "")

			created, generated, err := svc.EnsureAdmin(ctx, tc.password)
			checkErr(t, "EnsureAdmin", err, tc.wantErr)
			if created != tc.wantCreated || (generated != "") != tc.wantGenerated {
				t.Fatalf("EnsureAdmin = created %v, generated %q; want created %v, generated: %v", created, generated, tc.wantCreated, tc.wantGenerated)
			}
			after, _ := f.store.CountUsers(ctx, "")
			if !created {
				if after != before {
					t.Fatalf("EnsureAdmin created nothing but user count went %d -> %d", before, after)
				}
				return
			}
			if after != before+1 {
				t.Fatalf("user count after EnsureAdmin = %d, want %d", after, before+1)
			}
			password := tc.password
			if tc.wantGenerated {
				if len(generated) < minPasswordLen {
					t.Errorf("generated password %q is shorter than %d", generated, minPasswordLen)
				}
				password = generated
			}
			s, err := svc.Login(ctx, "admin", password)
			if err != nil {
				t.Fatalf("Login(admin, the EnsureAdmin password): %v", err)
			}
			if s.User.Role != RoleAdmin || s.User.DepartmentID != "" || s.User.Disabled {
				t.Errorf("created user = %+v, want an enabled admin without department", s.User)
			}

			again, generatedAgain, err := svc.EnsureAdmin(ctx, "")
			if err != nil || again || generatedAgain != "" {
				t.Errorf("second EnsureAdmin = %v, %q, %v; want false, \"\", nil", again, generatedAgain, err)
			}
			if n, _ := f.store.CountUsers(ctx, ""); n != before+1 {
				t.Errorf("user count after second EnsureAdmin = %d, want %d", n, before+1)
			}
		})
	}
}

func TestHashTokenIsDeterministicSHA256Hex(t *testing.T) {
	cases := []struct {
		secret string
		want   string
	}{
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tc := range cases {
		t.Run(tc.secret, func(t *testing.T) {
			first, second := HashToken(tc.secret), HashToken(tc.secret)
			if first != second {
				t.Fatalf("HashToken(%q) not deterministic: %q, %q", tc.secret, first, second)
			}
			if first != tc.want {
				t.Errorf("HashToken(%q) = %q, want %q", tc.secret, first, tc.want)
			}
		})
	}
	if HashToken("dp_a") == HashToken("dp_b") {
		t.Error("different secrets hash alike")
	}
	if _, err := hex.DecodeString(HashToken(newSecret())); err != nil {
		t.Errorf("HashToken is not hex: %v", err)
	}
}

func TestNewIDYieldsDistinct26CharIDs(t *testing.T) {
	const n = 1000
	seen := make(map[string]bool, n)
	for range n {
		id := NewID()
		if len(id) != 26 {
			t.Fatalf("NewID() = %q: %d characters, want 26", id, len(id))
		}
		if strings.Trim(id, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("NewID() = %q: characters outside lower-case base32", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestNewSecretsAreDistinctAndPrefixed(t *testing.T) {
	a, b := newSecret(), newSecret()
	if a == b {
		t.Fatal("newSecret repeated itself")
	}
	for _, s := range []string{a, b} {
		if !strings.HasPrefix(s, "dp_") || len(s) != 3+52 {
			t.Errorf("newSecret() = %q, want dp_ and 52 base32 characters", s)
		}
	}
}

// TestCreateAPITokenNeedsARecentSignIn: only a session at most RecentSignIn
// old mints API tokens; an older one, or an API token, is refused.
func TestCreateAPITokenNeedsARecentSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, err := f.svc.Login(ctx, "carol", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, session, err := f.svc.Authenticate(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(RecentSignIn)
	_, apiSecret, err := f.svc.CreateAPIToken(ctx, f.memberA, session, "at the bound", time.Hour)
	if err != nil {
		t.Fatalf("session exactly %v old: %v", RecentSignIn, err)
	}
	_, api, err := f.svc.Authenticate(ctx, apiSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateAPIToken(ctx, f.memberA, api, "minted by a token", time.Hour); !errors.Is(err, ErrTokenMintsToken) {
		t.Errorf("API token minting a token: %v, want ErrTokenMintsToken", err)
	}
	f.now = f.now.Add(time.Second)
	before := f.store.tokenCount()
	if _, _, err := f.svc.CreateAPIToken(ctx, f.memberA, session, "late", time.Hour); !errors.Is(err, ErrSignInAgain) || errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("session older than %v: %v, want ErrSignInAgain (forbidden)", RecentSignIn, err)
	}
	if n := f.store.tokenCount(); n != before {
		t.Errorf("refused CreateAPIToken stored %d tokens", n-before)
	}
}
