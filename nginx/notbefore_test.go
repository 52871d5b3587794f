package nginx

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestScheduledEntryIsServedFromItsNotBeforeOn: an entry pushed ahead of
// its publication (Entry.NotBefore, as docs.HotSource sets it from
// publish_at) is held but not served: until that second every request,
// share links' included, reaches the app; from it on nginx answers, and
// never before it. An entry without NotBefore is served at once.
func TestScheduledEntryIsServedFromItsNotBeforeOn(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("lecture handout"), etag: `"h1"`, ctype: "text/plain", filename: "h.txt"}
	tier := startContentTier(t, app, Config{Workers: 2})
	ctx := context.Background()
	notBefore := time.Now().Truncate(time.Second).Add(2 * time.Second)
	scheduled := app.entry("SCHED", 1, "public")
	scheduled.NotBefore = notBefore
	if err := tier.client.Push(ctx, scheduled); err != nil {
		t.Fatal(err)
	}
	if err := tier.client.Push(ctx, app.entry("NOW", 1, "public")); err != nil {
		t.Fatal(err)
	}
	token := strings.Repeat("t", 43) // a share token's shape; nginx holds only its SHA-1
	key := sha1.Sum([]byte(token))
	if err := tier.client.PushShare(ctx, "L1", hex.EncodeToString(key[:]), "SCHED", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	listed, err := tier.client.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range listed {
		want := int64(0)
		if l.ID == "SCHED" {
			want = notBefore.Unix()
		}
		if l.NotBefore != want {
			t.Fatalf("listed %s with not_before %d, want %d", l.ID, l.NotBefore, want)
		}
	}
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(tier.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Cache")
	}
	if got := get("/api/v1/documents/NOW/content"); got != "HOT" {
		t.Fatalf("an entry without not-before: X-Cache %q, want HOT", got)
	}
	before, hot := 0, false
	for deadline := notBefore.Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sent := time.Now()
		got, shared := get("/api/v1/documents/SCHED/content"), get("/s/"+token)
		if got != shared && time.Since(notBefore) < 0 {
			t.Fatalf("before its not-before the content answers X-Cache %q, the share link %q", got, shared)
		}
		if got == "HOT" {
			if sent.Before(notBefore) {
				t.Fatalf("served by nginx at %s, before its not-before %s", sent.Format(time.RFC3339Nano), notBefore.Format(time.RFC3339))
			}
			hot = true
			break
		}
		if time.Now().Before(notBefore) {
			before++
		}
	}
	if !hot || before == 0 {
		t.Fatalf("scheduled entry: %d answers from the app before its not-before, served by nginx after it: %t", before, hot)
	}
	// The tier may lag the clock by an event loop iteration, never more
	// than a moment: right after the second it serves.
	if got, shared := get("/api/v1/documents/SCHED/content"), get("/s/"+token); got != "HOT" || shared != "HOT" {
		t.Fatalf("after its not-before: X-Cache %q, share link %q, want HOT for both", got, shared)
	}
}

// TestNotBeforeIsRoundedUp: a not-before inside a second is sent as the
// next whole second, so nginx is never earlier than the app.
func TestNotBeforeIsRoundedUp(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("x"), etag: `"x"`, ctype: "text/plain", filename: "x.txt"}
	tier := startContentTier(t, app, Config{Workers: 1})
	e := app.entry("R", 1, "public")
	sec := time.Now().Truncate(time.Second).Add(time.Hour)
	e.NotBefore = sec.Add(300 * time.Millisecond)
	if err := tier.client.Push(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	listed, err := tier.client.List(context.Background())
	if err != nil || len(listed) != 1 || listed[0].NotBefore != sec.Unix()+1 {
		t.Fatalf("listed %+v (%v), want not_before %d", listed, err, sec.Unix()+1)
	}
}
