package docs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"docplat/errs"
)

// mapRepo answers Get from a map; other methods are not used here.
type mapRepo struct {
	Repository // nil: calling anything but Get panics
	docs       map[string]Document
}

func (r mapRepo) Get(_ context.Context, id string) (Document, error) {
	d, ok := r.docs[id]
	if !ok {
		return Document{}, ErrNotFound
	}
	return d, nil
}

// TestReadableKeepsWhatTheActorMayRead: the filter of lists ranked
// elsewhere keeps order, drops unreadable and vanished documents.
func TestReadableKeepsWhatTheActorMayRead(t *testing.T) {
	// At the service's clock (listNow), not the machine's.
	future := listNow.Add(time.Hour)
	past := listNow.Add(-time.Hour)
	repo := mapRepo{docs: map[string]Document{
		"pub":     {ID: "pub", OwnerID: "o", Visibility: Public},
		"priv":    {ID: "priv", OwnerID: "o", Visibility: Private},
		"granted": {ID: "granted", OwnerID: "o", Visibility: Private, Grants: []Grant{{Principal: "user:u", Permission: PermRead, ExpiresAt: &future}}},
		"lapsed":  {ID: "lapsed", OwnerID: "o", Visibility: Private, Grants: []Grant{{Principal: "user:u", Permission: PermRead, ExpiresAt: &past}}},
	}}
	s := newListService(t, repo)
	got, err := s.Readable(context.Background(), Actor{UserID: "u"}, []string{"priv", "granted", "gone", "pub", "lapsed"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"granted", "pub"}; !slices.Equal(got, want) {
		t.Fatalf("Readable = %v, want %v", got, want)
	}
	if _, err := s.Authorize(context.Background(), Actor{UserID: "u"}, "granted", PermWrite); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Authorize(write) with a read grant = %v, want ErrForbidden", err)
	}
	if d, err := s.GetSystem(context.Background(), "priv"); err != nil || d.ID != "priv" {
		t.Fatalf("GetSystem = %v, %v", d.ID, err)
	}
}

func TestCheckGrants(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := now.Add(90*time.Minute + 500*time.Millisecond)
	past := now.Add(-time.Minute)
	sameSecond := now.Add(400 * time.Millisecond) // after now, but not after it at second precision
	many := make([]Grant, MaxGrants+1)
	for i := range many {
		many[i] = Grant{Principal: fmt.Sprintf("user:u%d", i), Permission: PermRead}
	}
	bad := map[string][]Grant{
		"no kind":          {{Principal: "u1", Permission: PermRead}},
		"unknown kind":     {{Principal: "group:g", Permission: PermRead}},
		"empty id":         {{Principal: "user:", Permission: PermRead}},
		"odd id":           {{Principal: "user:a b", Permission: PermRead}},
		"no permission":    {{Principal: "user:u1"}},
		"past expiry":      {{Principal: "user:u1", Permission: PermRead, ExpiresAt: &past}},
		"expiry too close": {{Principal: "user:u1", Permission: PermRead, ExpiresAt: &sameSecond}},
		"duplicate":        {{Principal: "user:u1", Permission: PermRead}, {Principal: "user:u1", Permission: PermWrite}},
		"too many":         many,
	}
	for name, gs := range bad {
		if _, err := checkGrants(gs, now); errs.CodeOf(err) != errs.BadRequest {
			t.Errorf("%s: %v, want a bad request", name, err)
		}
	}
	got, err := checkGrants([]Grant{{Principal: "user:u2", Permission: PermManage, ExpiresAt: &later}, {Principal: "department:d1", Permission: PermRead}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Principal != "department:d1" || got[1].ExpiresAt == nil || !got[1].ExpiresAt.Equal(later.Truncate(time.Second)) {
		t.Fatalf("checkGrants = %+v (want sorted, expiry to the second)", got)
	}
}
