package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestNormalizeUsername(t *testing.T) {
	for in, want := range map[string]string{
		"carol":            "carol",
		"  carol\t":        "carol",
		"\tCAROL ":         "carol",
		"Ｃａｒｏｌ":            "carol", // fullwidth (NFKC)
		"\u212Aim":         "kim",   // KELVIN SIGN (NFKC, then folded)
		"ﬁona":             "fiona", // the fi ligature (NFKC)
		" \u00a0bob\u3000": "bob",   // no-break and ideographic spaces
	} {
		if got := NormalizeUsername(in); got != want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUsernameVariantsAreOneAccount: a padded, case-variant or fullwidth
// spelling signs in as the user and cannot be created as another one.
func TestUsernameVariantsAreOneAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, v := range []string{" carol", "carol\t", "CAROL", "Ｃａｒｏｌ"} {
		s, err := f.svc.Login(ctx, v, testPassword)
		if err != nil || s.User.ID != f.memberA.ID {
			t.Errorf("Login(%q) = %v, %v; want carol's session", v, s.User.ID, err)
		}
		if _, err := f.svc.CreateUser(ctx, f.admin, NewUser{Username: v, Password: testPassword}); !errors.Is(err, ErrConflict) {
			t.Errorf("CreateUser(%q) error = %v, want a conflict with carol", v, err)
		}
	}
	u, err := f.svc.CreateUser(ctx, f.admin, NewUser{Username: " Dora.M ", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "dora.m" || u.DisplayName != "Dora.M" {
		t.Errorf("created %q displayed %q, want dora.m displayed as typed (Dora.M)", u.Username, u.DisplayName)
	}
}

func TestCheckUsernamesRefusesUsersThatBecomeOne(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.CheckUsernames(ctx); err != nil {
		t.Fatalf("CheckUsernames on distinct users: %v", err)
	}
	// Written around the service, as an old version or a hand edit could.
	if err := f.store.CreateUser(ctx, User{ID: NewID(), Username: "Carol", Role: RoleMember, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	err := f.svc.CheckUsernames(ctx)
	if err == nil || !strings.Contains(err.Error(), `"Carol"`) || !strings.Contains(err.Error(), `"carol"`) {
		t.Fatalf("CheckUsernames = %v, want an error naming carol and Carol", err)
	}
}
