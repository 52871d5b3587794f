package nginx

import (
	"context"
	"testing"
	"time"

	"docplat/shares"
)

// TestShareLinksAreAnsweredFromHotEntriesUntilDroppedOrExpired: a pushed
// link to a hot (here private) document is answered by nginx; a browser's
// navigation, a password, an unknown or truncated token, a link whose
// document is not hot go to the app; a drop or the expiry stops nginx
// answering within a second.
func TestShareLinksAreAnsweredFromHotEntriesUntilDroppedOrExpired(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("0123456789 handout"), etag: `"e1"`, ctype: "text/plain", filename: "handout.txt"}
	tier := startContentTier(t, app, Config{})
	ctx := context.Background()
	if err := tier.client.Push(ctx, app.entry("D1", 2, "private")); err != nil {
		t.Fatal(err)
	}
	token, cold := shares.NewToken(), shares.NewToken()
	if err := tier.client.PushShare(ctx, "L1", shares.EdgeKey(token), "D1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := tier.client.PushShare(ctx, "L2", shares.EdgeKey(cold), "D2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	hot := func(what, path string, hdr map[string]string) answer {
		t.Helper()
		a := fetch(t, "GET", tier.base+path, hdr)
		if a.header.Get("X-Cache") != "HOT" || a.header.Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("%s: %d X-Cache %q Cache-Control %q, want HOT private, no-cache", what, a.status, a.header.Get("X-Cache"), a.header.Get("Cache-Control"))
		}
		return a
	}
	app_ := func(what, path string, hdr map[string]string) {
		t.Helper()
		if a := fetch(t, "GET", tier.base+path, hdr); a.header.Get("X-App") != "a" || a.header.Get("X-Cache") == "HOT" {
			t.Fatalf("%s: answered by nginx (%d %v), want the app", what, a.status, a.header)
		}
	}
	if a := hot("share", "/s/"+token, nil); a.status != 200 || a.body != "0123456789 handout" || a.header.Get("ETag") != `"e1"` {
		t.Fatalf("share: %d %q %v", a.status, a.body, a.header)
	}
	if a := hot("range", "/s/"+token, map[string]string{"Range": "bytes=2-4"}); a.status != 206 || a.body != "234" {
		t.Fatalf("range: %d %q", a.status, a.body)
	}
	if a := hot("304", "/s/"+token, map[string]string{"If-None-Match": `"e1"`}); a.status != 304 {
		t.Fatalf("If-None-Match: %d", a.status)
	}
	hot("download button", "/s/"+token+"?download=1", map[string]string{"Accept": "text/html"})
	app_("browser", "/s/"+token, map[string]string{"Accept": "text/html,application/xhtml+xml"})
	app_("password", "/s/"+token, map[string]string{"X-Share-Password": "x"})
	app_("unknown", "/s/"+shares.NewToken(), nil)
	app_("truncated", "/s/"+token[:42], nil)
	app_("document not hot", "/s/"+cold, nil)

	// Revocation: the next request after the drop returns goes to the app.
	if err := tier.client.DropShare(ctx, "L1"); err != nil {
		t.Fatal(err)
	}
	for range 20 { // every worker: they share one dict
		app_("revoked", "/s/"+token, nil)
	}

	// Expiry: within a second of expires_at, nginx stops by itself.
	exp := shares.NewToken()
	expires := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	if err := tier.client.PushShare(ctx, "L3", shares.EdgeKey(exp), "D1", expires); err != nil {
		t.Fatal(err)
	}
	hot("before expiry", "/s/"+exp, nil)
	time.Sleep(time.Until(expires))
	deadline := expires.Add(time.Second)
	for {
		a := fetch(t, "GET", tier.base+"/s/"+exp, nil)
		if a.header.Get("X-Cache") != "HOT" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx still answers a link expired at %v at %v", expires, time.Now())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 20 {
		app_("expired", "/s/"+exp, nil)
	}
}
