package sqlstore_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"docplat/accounts"
)

func TestAccountsUserRoundTripByIDAndUsername(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		dept := e.dept(t, "Engineering", 0)
		want := e.user(t, "alice", accounts.RoleDeptAdmin, dept)

		byID, err := st.UserByID(e.ctx, want.ID)
		if err != nil {
			t.Fatalf("UserByID: %v", err)
		}
		assertUser(t, byID, want)

		// Usernames are unique without regard to case, and looked up the same
		// way, on both backends (utf8mb4_unicode_ci on MariaDB, COLLATE NOCASE
		// on SQLite).
		for _, name := range []string{"alice", "Alice", "ALICE"} {
			got, err := st.UserByUsername(e.ctx, name)
			if err != nil {
				t.Fatalf("UserByUsername(%q): %v", name, err)
			}
			assertUser(t, got, want)
		}

		if _, err := st.UserByUsername(e.ctx, "bob"); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("UserByUsername(unknown) error = %v, want ErrNotFound", err)
		}
		if _, err := st.UserByID(e.ctx, accounts.NewID()); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("UserByID(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func assertUser(t *testing.T, got, want accounts.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.DisplayName != want.DisplayName ||
		got.Role != want.Role || got.DepartmentID != want.DepartmentID || got.Disabled != want.Disabled ||
		got.PasswordHash != want.PasswordHash {
		t.Fatalf("user = %+v, want %+v", got, want)
	}
	if d := got.CreatedAt.Sub(want.CreatedAt).Abs(); d > time.Second {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
}

func TestAccountsDuplicateUsernameIsConflict(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		e.user(t, "alice", accounts.RoleMember, "")
		for _, name := range []string{"alice", "Alice"} {
			now := time.Now().UTC()
			u := accounts.User{ID: accounts.NewID(), Username: name, Role: accounts.RoleMember, PasswordHash: "x",
				CreatedAt: now, UpdatedAt: now}
			if err := e.db.Accounts().CreateUser(e.ctx, u); !errors.Is(err, accounts.ErrConflict) {
				t.Fatalf("CreateUser(%q) after alice: error = %v, want ErrConflict", name, err)
			}
		}
		if n, err := e.db.Accounts().CountUsers(e.ctx, ""); err != nil || n != 1 {
			t.Fatalf("CountUsers = %d, %v; want 1", n, err)
		}
	})
}

func TestAccountsDisablingUserDeletesItsTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		alice := e.user(t, "alice", accounts.RoleMember, "")
		bob := e.user(t, "bob", accounts.RoleMember, "")
		aliceTok := e.token(t, alice.ID, time.Now().UTC().Add(time.Hour))
		bobTok := e.token(t, bob.ID, time.Now().UTC().Add(time.Hour))

		// An update that keeps the account enabled keeps its tokens.
		alice.DisplayName = "Alice A."
		alice.UpdatedAt = time.Now().UTC()
		if err := st.UpdateUser(e.ctx, alice, false); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if _, _, err := st.TokenByHash(e.ctx, aliceTok.Hash); err != nil {
			t.Fatalf("TokenByHash after a plain update: %v", err)
		}

		alice.Disabled = true
		alice.UpdatedAt = time.Now().UTC()
		if err := st.UpdateUser(e.ctx, alice, true); err != nil {
			t.Fatalf("UpdateUser(disabled): %v", err)
		}
		got, err := st.UserByID(e.ctx, alice.ID)
		if err != nil || !got.Disabled || got.DisplayName != "Alice A." {
			t.Fatalf("UserByID after disabling = %+v, %v; want disabled with the new display name", got, err)
		}
		if _, _, err := st.TokenByHash(e.ctx, aliceTok.Hash); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("TokenByHash(disabled user's token) error = %v, want ErrNotFound", err)
		}
		if _, _, err := st.TokenByHash(e.ctx, bobTok.Hash); err != nil {
			t.Fatalf("another user's token was affected: %v", err)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM tokens WHERE user_id = ?", alice.ID); n != 0 {
			t.Fatalf("%d tokens left for the disabled user", n)
		}
	})
}

func TestAccountsUpdateUnknownUserIsNotFound(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		now := time.Now().UTC()
		u := accounts.User{ID: accounts.NewID(), Username: "ghost", Role: accounts.RoleMember, CreatedAt: now, UpdatedAt: now}
		if err := e.db.Accounts().UpdateUser(e.ctx, u, false); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("UpdateUser(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestAccountsUpdateWithUnchangedValuesSucceeds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		dept := e.dept(t, "Engineering", 0)
		alice := e.user(t, "alice", accounts.RoleMember, dept)
		// Saving an unchanged user or department (e.g. a retried request)
		// must not turn into "not found" for a row that exists.
		if err := st.UpdateUser(e.ctx, alice, false); err != nil {
			t.Fatalf("UpdateUser with unchanged values: %v", err)
		}
		d, err := st.DepartmentByID(e.ctx, dept)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateDepartment(e.ctx, d); err != nil {
			t.Fatalf("UpdateDepartment with unchanged values: %v", err)
		}
	})
}

func TestAccountsDeleteUserConflictsWhileOwningDocuments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		alice := e.user(t, "alice", accounts.RoleMember, "")
		tok := e.token(t, alice.ID, time.Now().UTC().Add(time.Hour))
		d := e.create(t, docSpec{Title: "owned", Owner: alice.ID})

		if err := st.DeleteUser(e.ctx, alice.ID); !errors.Is(err, accounts.ErrConflict) {
			t.Fatalf("DeleteUser(owner of a document) error = %v, want ErrConflict", err)
		}
		if _, err := st.UserByID(e.ctx, alice.ID); err != nil {
			t.Fatalf("user gone after a refused delete: %v", err)
		}

		if err := e.repo(t).Delete(e.ctx, d.ID, noCheck); err != nil {
			t.Fatalf("Delete document: %v", err)
		}
		if err := st.DeleteUser(e.ctx, alice.ID); err != nil {
			t.Fatalf("DeleteUser once the document is gone: %v", err)
		}
		if _, err := st.UserByID(e.ctx, alice.ID); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("UserByID after delete error = %v, want ErrNotFound", err)
		}
		if _, _, err := st.TokenByHash(e.ctx, tok.Hash); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("token of a deleted user: error = %v, want ErrNotFound", err)
		}
		if err := st.DeleteUser(e.ctx, alice.ID); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("second DeleteUser error = %v, want ErrNotFound", err)
		}
	})
}

func TestAccountsDeleteDepartmentConflictsWhileReferenced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		outsider := e.user(t, "outsider", accounts.RoleMember, "")

		tests := []struct {
			name  string
			setup func(t *testing.T, dept string) (release func(t *testing.T))
		}{
			{"a member user", func(t *testing.T, dept string) func(*testing.T) {
				u := e.user(t, "member-"+dept, accounts.RoleMember, dept)
				return func(t *testing.T) {
					if err := st.DeleteUser(e.ctx, u.ID); err != nil {
						t.Fatalf("DeleteUser: %v", err)
					}
				}
			}},
			{"a document", func(t *testing.T, dept string) func(*testing.T) {
				d := e.create(t, docSpec{Title: "doc", Owner: outsider.ID, Dept: dept})
				return func(t *testing.T) {
					if err := e.repo(t).Delete(e.ctx, d.ID, noCheck); err != nil {
						t.Fatalf("Delete: %v", err)
					}
				}
			}},
			{"a child department", func(t *testing.T, dept string) func(*testing.T) {
				now := time.Now().UTC()
				child := accounts.Department{ID: accounts.NewID(), Name: "child of " + dept, ParentID: dept, CreatedAt: now, UpdatedAt: now}
				if err := st.CreateDepartment(e.ctx, child); err != nil {
					t.Fatalf("CreateDepartment(child): %v", err)
				}
				return func(t *testing.T) {
					if err := st.DeleteDepartment(e.ctx, child.ID); err != nil {
						t.Fatalf("DeleteDepartment(child): %v", err)
					}
				}
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				dept := e.dept(t, "dept with "+tc.name, 0)
				release := tc.setup(t, dept)
				if err := st.DeleteDepartment(e.ctx, dept); !errors.Is(err, accounts.ErrConflict) {
					t.Fatalf("DeleteDepartment referenced by %s: error = %v, want ErrConflict", tc.name, err)
				}
				if _, err := st.DepartmentByID(e.ctx, dept); err != nil {
					t.Fatalf("department gone after a refused delete: %v", err)
				}
				release(t)
				if err := st.DeleteDepartment(e.ctx, dept); err != nil {
					t.Fatalf("DeleteDepartment once unreferenced: %v", err)
				}
				if _, err := st.DepartmentByID(e.ctx, dept); !errors.Is(err, accounts.ErrNotFound) {
					t.Fatalf("DepartmentByID after delete: error = %v, want ErrNotFound", err)
				}
			})
		}
	})
}

func TestAccountsListUsersPaginatesAndFiltersByDepartment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		a := e.dept(t, "A", 0)
		b := e.dept(t, "B", 0)
		// ListUsers orders by username.
		for _, u := range []struct {
			name, dept string
			role       accounts.Role
		}{
			{"u1", a, accounts.RoleMember}, {"u2", b, accounts.RoleMember}, {"u3", a, accounts.RoleAdmin}, {"u4", "", accounts.RoleMember}, {"u5", a, accounts.RoleDeptAdmin},
		} {
			e.user(t, u.name, u.role, u.dept)
		}

		tests := []struct {
			name      string
			filter    accounts.UserFilter
			page      accounts.Page
			wantNames []string
			wantTotal int64
		}{
			{"all, page 1", accounts.UserFilter{}, accounts.Page{Page: 1, Size: 2}, []string{"u1", "u2"}, 5},
			{"all, page 2", accounts.UserFilter{}, accounts.Page{Page: 2, Size: 2}, []string{"u3", "u4"}, 5},
			{"all, page 3", accounts.UserFilter{}, accounts.Page{Page: 3, Size: 2}, []string{"u5"}, 5},
			{"all, past the end", accounts.UserFilter{}, accounts.Page{Page: 4, Size: 2}, []string{}, 5},
			{"department A, page 1", accounts.UserFilter{DepartmentID: a}, accounts.Page{Page: 1, Size: 2}, []string{"u1", "u3"}, 3},
			{"department A, page 2", accounts.UserFilter{DepartmentID: a}, accounts.Page{Page: 2, Size: 2}, []string{"u5"}, 3},
			{"department B", accounts.UserFilter{DepartmentID: b}, accounts.Page{Page: 1, Size: 10}, []string{"u2"}, 1},
			{"department A but admins", accounts.UserFilter{DepartmentID: a, ExceptRole: accounts.RoleAdmin}, accounts.Page{Page: 1, Size: 10}, []string{"u1", "u5"}, 2},
			{"all but admins", accounts.UserFilter{ExceptRole: accounts.RoleAdmin}, accounts.Page{Page: 2, Size: 2}, []string{"u4", "u5"}, 4},
			{"unknown department", accounts.UserFilter{DepartmentID: accounts.NewID()}, accounts.Page{Page: 1, Size: 10}, []string{}, 0},
			{"matching a username", accounts.UserFilter{Matching: "3"}, accounts.Page{Page: 1, Size: 10}, []string{"u3"}, 1},
			{"matching a display name, any case", accounts.UserFilter{Matching: "uSER U"}, accounts.Page{Page: 1, Size: 1}, []string{"u1"}, 5},
			{"matching within the department", accounts.UserFilter{DepartmentID: a, Matching: "u5"}, accounts.Page{Page: 1, Size: 10}, []string{"u5"}, 1},
			{"LIKE wildcards are literal", accounts.UserFilter{Matching: "u%"}, accounts.Page{Page: 1, Size: 10}, []string{}, 0},
			{"the escape character is literal", accounts.UserFilter{Matching: "!u"}, accounts.Page{Page: 1, Size: 10}, []string{}, 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				users, total, err := st.ListUsers(e.ctx, tc.filter, tc.page)
				if err != nil {
					t.Fatalf("ListUsers: %v", err)
				}
				got := []string{}
				for _, u := range users {
					got = append(got, u.Username)
					if tc.filter.DepartmentID != "" && u.DepartmentID != tc.filter.DepartmentID {
						t.Errorf("user %s of department %q in a listing of %q", u.Username, u.DepartmentID, tc.filter.DepartmentID)
					}
				}
				if !slices.Equal(got, tc.wantNames) || total != tc.wantTotal {
					t.Fatalf("ListUsers = %v (total %d), want %v (total %d)", got, total, tc.wantNames, tc.wantTotal)
				}
			})
		}
	})
}

func TestAccountsTokenByHashReturnsTokenAndUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		alice := e.user(t, "alice", accounts.RoleAdmin, "")
		want := e.token(t, alice.ID, time.Now().UTC().Add(24*time.Hour))

		tok, u, err := st.TokenByHash(e.ctx, want.Hash)
		if err != nil {
			t.Fatalf("TokenByHash: %v", err)
		}
		if tok.ID != want.ID || tok.UserID != alice.ID || tok.Kind != want.Kind || tok.Name != want.Name || tok.Hash != want.Hash {
			t.Fatalf("token = %+v, want %+v", tok, want)
		}
		if d := tok.ExpiresAt.Sub(want.ExpiresAt).Abs(); d > time.Second {
			t.Fatalf("ExpiresAt = %v, want %v", tok.ExpiresAt, want.ExpiresAt)
		}
		assertUser(t, u, alice)

		if _, _, err := st.TokenByHash(e.ctx, accounts.HashToken("not a token")); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("TokenByHash(unknown) error = %v, want ErrNotFound", err)
		}
		if err := st.DeleteToken(e.ctx, want); err != nil {
			t.Fatalf("DeleteToken: %v", err)
		}
		if _, _, err := st.TokenByHash(e.ctx, want.Hash); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("TokenByHash after DeleteToken: error = %v, want ErrNotFound", err)
		}
	})
}

func TestAccountsDeleteExpiredTokensKeepsLiveOnes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		st := e.db.Accounts()
		alice := e.user(t, "alice", accounts.RoleMember, "")
		now := time.Now().UTC()
		expired := []accounts.Token{
			e.token(t, alice.ID, now.Add(-48*time.Hour)),
			e.token(t, alice.ID, now.Add(-time.Second)),
		}
		live := []accounts.Token{
			e.token(t, alice.ID, now.Add(time.Second)),
			e.token(t, alice.ID, now.Add(30*24*time.Hour)),
		}

		n, err := st.DeleteExpiredTokens(e.ctx, now)
		if err != nil {
			t.Fatalf("DeleteExpiredTokens: %v", err)
		}
		if n != int64(len(expired)) {
			t.Fatalf("DeleteExpiredTokens removed %d, want %d", n, len(expired))
		}
		for _, tok := range expired {
			if _, _, err := st.TokenByHash(e.ctx, tok.Hash); !errors.Is(err, accounts.ErrNotFound) {
				t.Errorf("expired token (expires %v) still there: %v", tok.ExpiresAt, err)
			}
		}
		for _, tok := range live {
			if _, _, err := st.TokenByHash(e.ctx, tok.Hash); err != nil {
				t.Errorf("live token (expires %v) lost: %v", tok.ExpiresAt, err)
			}
		}
		if n, err := st.DeleteExpiredTokens(e.ctx, now); err != nil || n != 0 {
			t.Fatalf("second DeleteExpiredTokens = %d, %v; want 0", n, err)
		}
	})
}

// token stores a session token of user that expires at exp.
func (e *env) token(t *testing.T, user string, exp time.Time) accounts.Token {
	t.Helper()
	tok := accounts.Token{ID: accounts.NewID(), UserID: user, Kind: accounts.TokenSession, Name: "test",
		Hash: accounts.HashToken(accounts.NewID()), ExpiresAt: exp, CreatedAt: time.Now().UTC()}
	if err := e.db.Accounts().CreateToken(e.ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return tok
}
