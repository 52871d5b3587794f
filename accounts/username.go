package accounts

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// NormalizeUsername is the one form of a username that everything keys on:
// logins, the login rate limiter, creation and lookups. It trims spaces and
// tabs (and other Unicode white space), applies NFKC (so fullwidth and
// compatibility forms read as their plain letters) and Unicode case folding.
// A padded or case-variant spelling is therefore the same account, the same
// rate-limit bucket and the same lock. Usernames are stored in this form;
// the spelling typed at creation is kept as the default display name.
func NormalizeUsername(s string) string {
	return cases.Fold().String(norm.NFKC.String(strings.TrimSpace(s)))
}

// CheckUsernames refuses to start on a database where two existing users
// would become one account under NormalizeUsername (possible only if rows
// were written around this service: its unique index already ignores case).
// Stored names that are not yet in normal form keep working, as lookups
// match them without regard to case; they are not rewritten.
func (s *Service) CheckUsernames(ctx context.Context) error {
	seen := map[string]string{}
	var clashes []string
	for p := (Page{Page: 1, Size: 500}); ; p.Page++ {
		users, _, err := s.store.ListUsers(ctx, UserFilter{}, p)
		if err != nil {
			return err
		}
		for _, u := range users {
			n := NormalizeUsername(u.Username)
			if other, ok := seen[n]; ok {
				clashes = append(clashes, fmt.Sprintf("%q and %q", other, u.Username))
				continue
			}
			seen[n] = u.Username
		}
		if len(users) < p.Size {
			break
		}
	}
	if len(clashes) > 0 {
		return fmt.Errorf("usernames that differ only by case, padding or Unicode form are one account now; rename or delete one of each pair before starting: %s", strings.Join(clashes, ", "))
	}
	return nil
}
