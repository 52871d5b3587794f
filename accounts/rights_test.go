package accounts

import (
	"context"
	"errors"
	"slices"
	"testing"

	"docplat/errs"
)

// TestRightsChangesCallTheHookAroundTheCommit: every change of what a user
// may read calls RightsChanged before the commit (a failure there changes
// nothing) and after it; other changes do not call it.
func TestRightsChangesCallTheHookAroundTheCommit(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		do     func(f *fixture) error
		rights bool
	}{
		{"disable", func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.admin, f.memberA.ID, UserPatch{Disabled: ptr(true)})
			return err
		}, true},
		{"move department", func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.admin, f.memberA.ID, UserPatch{DepartmentID: ptr(f.deptB.ID)})
			return err
		}, true},
		{"change role", func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.admin, f.memberA.ID, UserPatch{Role: ptr(RoleDeptAdmin)})
			return err
		}, true},
		{"delete", func(f *fixture) error { return f.svc.DeleteUser(ctx, f.admin, f.memberA.ID) }, true},
		{"display name only", func(f *fixture) error {
			_, err := f.svc.UpdateUser(ctx, f.admin, f.memberA.ID, UserPatch{DisplayName: ptr("Carol")})
			return err
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			var calls []string
			var seenCommitted []bool
			before, _ := f.storedUser(t, f.memberA.ID)
			f.svc.rightsChanged = func(_ context.Context, id string) error {
				calls = append(calls, id)
				now, ok := f.storedUser(t, f.memberA.ID)
				seenCommitted = append(seenCommitted, !ok || now != before)
				return nil
			}
			if err := c.do(f); err != nil {
				t.Fatal(err)
			}
			if !c.rights {
				if len(calls) != 0 {
					t.Fatalf("hook called %v for a change that leaves rights alone", calls)
				}
				return
			}
			if !slices.Equal(calls, []string{f.memberA.ID, f.memberA.ID}) || !slices.Equal(seenCommitted, []bool{false, true}) {
				t.Fatalf("calls %v (committed: %v), want the user's id before and after the commit", calls, seenCommitted)
			}

			// A failing hook before the commit refuses the change.
			f2 := newFixture(t)
			f2.svc.rightsChanged = func(context.Context, string) error { return errors.New("nginx down") }
			err := c.do(f2)
			if errs.CodeOf(err) != errs.Unavailable {
				t.Fatalf("with the hook failing: %v, want unavailable", err)
			}
			if now, ok := f2.storedUser(t, f2.memberA.ID); !ok || now != before {
				t.Fatalf("the change was made although the revocation failed: %+v", now)
			}

			// A failing hook after the commit says so and keeps the change.
			f3 := newFixture(t)
			n := 0
			f3.svc.rightsChanged = func(context.Context, string) error {
				if n++; n == 2 {
					return errors.New("nginx down")
				}
				return nil
			}
			if err := c.do(f3); !errors.Is(err, ErrRevocationPending) {
				t.Fatalf("with the hook failing after the commit: %v, want ErrRevocationPending", err)
			}
			if now, ok := f3.storedUser(t, f3.memberA.ID); ok && now == before {
				t.Fatal("the change must stand")
			}
		})
	}
}
