package accounts

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeStore is an in-memory Store that honours the interface contract:
// ErrNotFound for missing rows, ErrConflict for duplicate usernames and
// department names, for deleting a user who owns documents and for deleting
// a department that still has users, documents or child departments.
type fakeStore struct {
	mu     sync.Mutex
	users  map[string]User       // by id
	depts  map[string]Department // by id
	tokens map[string]Token      // by id

	ownsDocuments     map[string]bool // user id -> owns documents
	departmentHasDocs map[string]bool // department id -> has documents
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		users:             map[string]User{},
		depts:             map[string]Department{},
		tokens:            map[string]Token{},
		ownsDocuments:     map[string]bool{},
		departmentHasDocs: map[string]bool{},
	}
}

func (s *fakeStore) usernameTaken(username, exceptID string) bool {
	for id, u := range s.users {
		if u.Username == username && id != exceptID {
			return true
		}
	}
	return false
}

func (s *fakeStore) departmentNameTaken(name, exceptID string) bool {
	for id, d := range s.depts {
		if d.Name == name && id != exceptID {
			return true
		}
	}
	return false
}

func (s *fakeStore) CreateUser(_ context.Context, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; ok || s.usernameTaken(u.Username, "") {
		return ErrConflict
	}
	s.users[u.ID] = u
	return nil
}

func (s *fakeStore) UserByID(_ context.Context, id string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, ErrNotFound
	}
	return u, nil
}

func (s *fakeStore) UserByUsername(_ context.Context, username string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Username == username {
			return u, nil
		}
	}
	return User{}, ErrNotFound
}

func (s *fakeStore) UpdateUser(_ context.Context, u User, revokeTokens bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; !ok {
		return ErrNotFound
	}
	if s.usernameTaken(u.Username, u.ID) {
		return ErrConflict
	}
	s.users[u.ID] = u
	if revokeTokens {
		for id, t := range s.tokens {
			if t.UserID == u.ID {
				delete(s.tokens, id)
			}
		}
	}
	return nil
}

func (s *fakeStore) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[id]; !ok {
		return ErrNotFound
	}
	if s.ownsDocuments[id] {
		return ErrConflict
	}
	delete(s.users, id)
	for tid, t := range s.tokens { // tokens go with their user
		if t.UserID == id {
			delete(s.tokens, tid)
		}
	}
	return nil
}

// page returns the slice of n sorted rows that p selects.
func page(n int, p Page) (lo, hi int) {
	lo, hi = p.Offset(), p.Offset()+p.Size
	if lo < 0 {
		lo = 0
	}
	if lo > n {
		lo = n
	}
	if hi > n || p.Size <= 0 {
		hi = n
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func (s *fakeStore) ListUsers(_ context.Context, f UserFilter, p Page) ([]User, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []User
	for _, u := range s.users {
		matches := f.Matching == "" || strings.Contains(strings.ToLower(u.Username), strings.ToLower(f.Matching)) ||
			strings.Contains(strings.ToLower(u.DisplayName), strings.ToLower(f.Matching))
		if (f.DepartmentID == "" || u.DepartmentID == f.DepartmentID) && (f.ExceptRole == "" || u.Role != f.ExceptRole) && matches {
			all = append(all, u)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Username < all[j].Username })
	lo, hi := page(len(all), p)
	return append([]User{}, all[lo:hi]...), int64(len(all)), nil
}

func (s *fakeStore) CountUsers(_ context.Context, role Role) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, u := range s.users {
		if role == "" || u.Role == role && !u.Disabled {
			n++
		}
	}
	return int64(n), nil
}

func (s *fakeStore) CreateDepartment(_ context.Context, d Department) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.depts[d.ID]; ok || s.departmentNameTaken(d.Name, "") {
		return ErrConflict
	}
	s.depts[d.ID] = d
	return nil
}

func (s *fakeStore) DepartmentByID(_ context.Context, id string) (Department, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.depts[id]
	if !ok {
		return Department{}, ErrNotFound
	}
	return d, nil
}

func (s *fakeStore) UpdateDepartment(_ context.Context, d Department) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.depts[d.ID]
	if !ok {
		return ErrNotFound
	}
	if s.departmentNameTaken(d.Name, d.ID) {
		return ErrConflict
	}
	// Like the SQL store, only name, quota and updated_at change.
	cur.Name, cur.QuotaBytes, cur.UpdatedAt = d.Name, d.QuotaBytes, d.UpdatedAt
	s.depts[d.ID] = cur
	return nil
}

func (s *fakeStore) DeleteDepartment(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.depts[id]; !ok {
		return ErrNotFound
	}
	if s.departmentHasDocs[id] {
		return ErrConflict
	}
	for _, u := range s.users {
		if u.DepartmentID == id {
			return ErrConflict
		}
	}
	for _, d := range s.depts {
		if d.ParentID == id {
			return ErrConflict
		}
	}
	delete(s.depts, id)
	return nil
}

func (s *fakeStore) ListDepartments(_ context.Context, p Page) ([]Department, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []Department
	for _, d := range s.depts {
		all = append(all, d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	lo, hi := page(len(all), p)
	return append([]Department{}, all[lo:hi]...), int64(len(all)), nil
}

func (s *fakeStore) CreateToken(_ context.Context, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[t.ID]; ok {
		return ErrConflict
	}
	for _, o := range s.tokens {
		if o.Hash == t.Hash {
			return ErrConflict
		}
	}
	s.tokens[t.ID] = t
	return nil
}

func (s *fakeStore) TokenByHash(_ context.Context, hash string) (Token, User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if t.Hash == hash {
			u, ok := s.users[t.UserID]
			if !ok {
				return Token{}, User{}, ErrNotFound
			}
			return t, u, nil
		}
	}
	return Token{}, User{}, ErrNotFound
}

// DeleteToken is idempotent, like the SQL store's.
func (s *fakeStore) DeleteToken(_ context.Context, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, t.ID)
	return nil
}

func (s *fakeStore) TokenHashes(_ context.Context, userID string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, t := range s.tokens {
		if t.UserID == userID {
			out = append(out, t.Hash)
		}
	}
	return out, nil
}

func (s *fakeStore) DeleteExpiredTokens(_ context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, t := range s.tokens {
		if t.ExpiresAt.Before(before) {
			delete(s.tokens, id)
			n++
		}
	}
	return n, nil
}

// setDisabled flips a user's Disabled flag behind the service's back.
func (s *fakeStore) setDisabled(id string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	u.Disabled = disabled
	s.users[id] = u
}

func (s *fakeStore) tokenCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// TestFakeStoreHonoursContract keeps the fake honest: the service tests are
// only as good as the fake's imitation of the Store contract.
func TestFakeStoreHonoursContract(t *testing.T) {
	ctx := context.Background()
	seed := func() *fakeStore {
		s := newFakeStore()
		s.depts["d1"] = Department{ID: "d1", Name: "One"}
		s.depts["d2"] = Department{ID: "d2", Name: "Two"}
		s.users["u1"] = User{ID: "u1", Username: "ann", DepartmentID: "d1"}
		s.users["u2"] = User{ID: "u2", Username: "ben"}
		s.ownsDocuments["u2"] = true
		return s
	}
	cases := []struct {
		name string
		do   func(s *fakeStore) error
		want error
	}{
		{"missing user by id", func(s *fakeStore) error { _, err := s.UserByID(ctx, "nope"); return err }, ErrNotFound},
		{"missing user by username", func(s *fakeStore) error { _, err := s.UserByUsername(ctx, "nope"); return err }, ErrNotFound},
		{"update missing user", func(s *fakeStore) error { return s.UpdateUser(ctx, User{ID: "nope", Username: "x"}, false) }, ErrNotFound},
		{"delete missing user", func(s *fakeStore) error { return s.DeleteUser(ctx, "nope") }, ErrNotFound},
		{"duplicate username", func(s *fakeStore) error { return s.CreateUser(ctx, User{ID: "u3", Username: "ann"}) }, ErrConflict},
		{"update to a taken username", func(s *fakeStore) error { return s.UpdateUser(ctx, User{ID: "u2", Username: "ann"}, false) }, ErrConflict},
		{"delete user who owns documents", func(s *fakeStore) error { return s.DeleteUser(ctx, "u2") }, ErrConflict},
		{"delete user who owns nothing", func(s *fakeStore) error { return s.DeleteUser(ctx, "u1") }, nil},
		{"missing department", func(s *fakeStore) error { _, err := s.DepartmentByID(ctx, "nope"); return err }, ErrNotFound},
		{"update missing department", func(s *fakeStore) error { return s.UpdateDepartment(ctx, Department{ID: "nope", Name: "x"}) }, ErrNotFound},
		{"delete missing department", func(s *fakeStore) error { return s.DeleteDepartment(ctx, "nope") }, ErrNotFound},
		{"duplicate department name", func(s *fakeStore) error { return s.CreateDepartment(ctx, Department{ID: "d3", Name: "One"}) }, ErrConflict},
		{"rename to a taken department name", func(s *fakeStore) error { return s.UpdateDepartment(ctx, Department{ID: "d2", Name: "One"}) }, ErrConflict},
		{"delete department users reference", func(s *fakeStore) error { return s.DeleteDepartment(ctx, "d1") }, ErrConflict},
		{"delete unreferenced department", func(s *fakeStore) error { return s.DeleteDepartment(ctx, "d2") }, nil},
		{"unknown token hash", func(s *fakeStore) error { _, _, err := s.TokenByHash(ctx, "nope"); return err }, ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(seed()); err != tc.want {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}
