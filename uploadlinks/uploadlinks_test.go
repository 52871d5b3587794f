package uploadlinks

import (
	"testing"
	"time"

	"docplat/accounts"
)

func TestLinkUsable(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	revoked := now.Add(-time.Second)
	for _, tc := range []struct {
		name string
		l    Link
		want bool
	}{
		{"open", Link{ExpiresAt: now.Add(time.Hour), MaxFiles: 2, Files: 1}, true},
		{"full", Link{ExpiresAt: now.Add(time.Hour), MaxFiles: 2, Files: 2}, false},
		{"expired", Link{ExpiresAt: now, MaxFiles: 2}, false},
		{"revoked", Link{ExpiresAt: now.Add(time.Hour), MaxFiles: 2, RevokedAt: &revoked}, false},
	} {
		if got := tc.l.usable(now); got != tc.want {
			t.Errorf("%s: usable = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := (Link{ID: "abc"}).Tag(); got != "upload-link:abc" {
		t.Fatalf("Tag() = %q", got)
	}
}

// TestOnlyActiveMembersAndAboveCreateLinks: a reader uploads only through
// a link, never makes one; a disabled account makes none.
func TestOnlyActiveMembersAndAboveCreateLinks(t *testing.T) {
	for role, want := range map[accounts.Role]bool{accounts.RoleAdmin: true, accounts.RoleDeptAdmin: true, accounts.RoleMember: true, accounts.RoleReader: false} {
		if got := uploader(accounts.User{Role: role}); got != want {
			t.Errorf("%s: uploader = %v, want %v", role, got, want)
		}
	}
	if uploader(accounts.User{Role: accounts.RoleMember, Disabled: true}) {
		t.Error("a disabled member may create links")
	}
}
