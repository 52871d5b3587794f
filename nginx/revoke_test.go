package nginx

import (
	"context"
	"net/url"
	"testing"
	"time"

	"docplat/readtoken"
	"docplat/readtoken/tokenvector"
)

// hotFor reports whether nginx served tok for id from the hot tier (true)
// or left the request to the app (false).
func hotFor(t *testing.T, tier *testTier, id, tok string) bool {
	t.Helper()
	a := fetch(t, "GET", tier.base+"/api/v1/documents/"+id+"/content?token="+url.QueryEscape(tok), nil)
	switch a.header.Get("X-Cache") {
	case "HOT":
		return true
	case "MISS":
		return false
	}
	t.Fatalf("neither hot nor proxied: %d %v", a.status, a.header)
	return false
}

// TestRightsChangeRevokesTheUsersTokens: after UserRevoker.RightsChanged
// nginx refuses every token of that user issued before (Go's Expiry and
// RevocationCutoff against token.lua), and only that user's.
func TestRightsChangeRevokesTheUsersTokens(t *testing.T) {
	v := tokenvector.Load(t)
	secret := []byte(v.Secret)
	app := &contentApp{name: "a", body: []byte("department notes"), etag: `"e1"`, ctype: "text/plain", filename: "n.txt"}
	// A 1s token life for the start rule, so that it does not get in the way.
	tier := startContentTier(t, app, Config{TokenSecret: v.Secret, ReadTokenTTL: time.Second})
	ctx := context.Background()
	if err := tier.client.Push(ctx, app.entry(v.DocID, int64(v.Rev), "department")); err != nil {
		t.Fatal(err)
	}
	const ttl = time.Hour
	clock := time.Now().Add(2 * time.Second)
	sign := func(user string, issued time.Time) string {
		return readtoken.Sign(secret, v.DocID, user, v.Rev, readtoken.Expiry(issued, ttl))
	}
	moved, other := sign("moved", clock), sign("other", clock)
	if !hotFor(t, tier, v.DocID, moved) || !hotFor(t, tier, v.DocID, other) {
		t.Fatal("valid tokens must be served hot before any revocation")
	}

	r := &UserRevoker{Clients: []*Client{tier.client}, TokenTTL: ttl, Now: func() time.Time { return clock }}
	if err := r.RightsChanged(ctx, "moved"); err != nil {
		t.Fatal(err)
	}
	if hotFor(t, tier, v.DocID, moved) {
		t.Fatal("a revoked user's token was served hot")
	}
	if hotFor(t, tier, v.DocID, sign("moved", clock.Add(-time.Minute))) {
		t.Fatal("an older token of the revoked user was served hot")
	}
	if !hotFor(t, tier, v.DocID, other) {
		t.Fatal("another user's token must still be served hot")
	}
	if !hotFor(t, tier, v.DocID, sign("moved", clock.Add(time.Second))) {
		t.Fatal("a token issued after the change must be served hot")
	}

	// The boundary, and a lower cutoff never undoing a higher one.
	cut := clock.Add(2 * ttl).Truncate(time.Second)
	at := func(exp time.Time) string { return readtoken.Sign(secret, v.DocID, "edge", v.Rev, exp) }
	if err := tier.client.RevokeUser(ctx, "edge", cut); err != nil {
		t.Fatal(err)
	}
	if err := tier.client.RevokeUser(ctx, "edge", cut.Add(-ttl)); err != nil {
		t.Fatal(err)
	}
	if hotFor(t, tier, v.DocID, at(cut)) || !hotFor(t, tier, v.DocID, at(cut.Add(time.Second))) {
		t.Fatal("want a token expiring at the cutoff refused and one a second later served")
	}

	// A nginx that is down is skipped: its memory is gone with it.
	down := &UserRevoker{Clients: []*Client{tier.client, {Admin: "http://" + freeAddr(t), Secret: testSecret}}, TokenTTL: ttl}
	if err := down.RightsChanged(ctx, "moved"); err != nil {
		t.Fatalf("a stopped nginx must not fail the revocation: %v", err)
	}
}

// TestStartLeavesOlderTokensToTheApp: revocations live in nginx's memory,
// so a (re)started nginx refuses every token that may predate it, and a
// reload keeps both the revocations and the start time.
func TestStartLeavesOlderTokensToTheApp(t *testing.T) {
	v := tokenvector.Load(t)
	secret := []byte(v.Secret)
	app := &contentApp{name: "a", body: []byte("notes"), etag: `"e1"`, ctype: "text/plain", filename: "n.txt"}
	const ttl = time.Hour
	tier := startContentTier(t, app, Config{TokenSecret: v.Secret, ReadTokenTTL: ttl})
	ctx := context.Background()
	push := func() {
		t.Helper()
		if err := tier.client.Push(ctx, app.entry(v.DocID, int64(v.Rev), "private")); err != nil {
			t.Fatal(err)
		}
	}
	push()
	issued := time.Now().Add(-2 * time.Second) // a second before the start's at least
	old := readtoken.Sign(secret, v.DocID, "u", v.Rev, readtoken.Expiry(issued, ttl))
	fresh := readtoken.Sign(secret, v.DocID, "u", v.Rev, readtoken.Expiry(time.Now().Add(2*time.Second), ttl))
	if hotFor(t, tier, v.DocID, old) {
		t.Fatal("a token issued before nginx started was served hot")
	}
	if !hotFor(t, tier, v.DocID, fresh) {
		t.Fatal("a token issued after the start must be served hot")
	}
	if err := tier.client.RevokeUser(ctx, "r", time.Now().Add(2*ttl)); err != nil {
		t.Fatal(err)
	}
	revoked := readtoken.Sign(secret, v.DocID, "r", v.Rev, time.Now().Add(ttl+time.Minute))
	if err := tier.proc.Reload(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the new workers take over
	push()
	if !hotFor(t, tier, v.DocID, fresh) || hotFor(t, tier, v.DocID, revoked) || hotFor(t, tier, v.DocID, old) {
		t.Fatal("a reload must keep the start time and the revocations")
	}
}
