package accounts

import (
	"context"
	"fmt"

	"docplat/errs"
)

// RightsChanged is told that what a user may read is about to change or
// has changed (role, department, disabled, deleted), so that proof of the
// old rights held elsewhere (read tokens that nginx checks on its own) is
// revoked. It must return only once that proof is refused everywhere.
type RightsChanged func(ctx context.Context, userID string) error

// ErrRevocationPending: the change was made, but revoking what proved the
// user's old rights was not confirmed after it; repeating the request
// repeats the revocation.
var ErrRevocationPending = errs.New(errs.Unavailable, "the change was made, but revoking the user's outstanding read tokens was not confirmed; repeat the request")

// aroundRightsChange runs commit between two revocations: the one before
// refuses the change when it fails (nothing is changed), the one after
// covers tokens issued while the commit was in flight.
func (s *Service) aroundRightsChange(ctx context.Context, userID string, commit func() error) error {
	if s.rightsChanged == nil {
		return commit()
	}
	if err := s.rightsChanged(ctx, userID); err != nil {
		return fmt.Errorf("%w: revoking the user's read tokens: %w", ErrUnavailable, err)
	}
	if err := commit(); err != nil {
		return err
	}
	if err := s.rightsChanged(ctx, userID); err != nil {
		return fmt.Errorf("%w: %w", ErrRevocationPending, err)
	}
	return nil
}

// changesRights reports whether p touches what the user may read.
func (p UserPatch) changesRights() bool {
	return p.Role != nil || p.DepartmentID != nil || p.Disabled != nil
}
