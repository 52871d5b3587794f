package nginx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"docplat/readtoken"
	"docplat/readtoken/tokenvector"
)

// TestNonPublicNeedsAValidToken: nginx serves a non-public entry only with
// a token readtoken would accept for that document and revision; every
// other request reaches the app, which decides.
func TestNonPublicNeedsAValidToken(t *testing.T) {
	v := tokenvector.Load(t)
	secret := []byte(v.Secret)
	app := &contentApp{name: "a", body: []byte("private notes"), etag: `"e1"`, ctype: "text/plain", filename: "n.txt"}
	tier := startContentTier(t, app, Config{TokenSecret: v.Secret})
	if err := tier.client.Push(context.Background(), app.entry(v.DocID, int64(v.Rev), "department")); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		query  string
		header string
		hot    bool
	}{
		{"no token", "", "", false},
		{"shared vector in query", "?token=" + url.QueryEscape(v.Token), "", true},
		{"shared vector in header", "", v.Token, true},
		{"readtoken.Sign", "?token=" + readtoken.Sign(secret, v.DocID, "9", v.Rev, future), "", true},
		{"forged signature", "?token=" + v.Token[:len(v.Token)-2] + "00", "", false},
		{"other secret", "?token=" + readtoken.Sign([]byte("not-the-secret!!"), v.DocID, "9", v.Rev, future), "", false},
		{"expired", "?token=" + readtoken.Sign(secret, v.DocID, "9", v.Rev, time.Now().Add(-time.Second)), "", false},
		{"other document's", "?token=" + readtoken.Sign(secret, "OTHERDOC", "9", v.Rev, future), "", false},
		{"stale revision", "?token=" + readtoken.Sign(secret, v.DocID, "9", v.Rev-1, future), "", false},
		{"malformed", "?token=v1.x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.header != "" {
				hdr["X-Docplat-Read-Token"] = tt.header
			}
			a := fetch(t, "GET", tier.base+"/api/v1/documents/"+v.DocID+"/content"+tt.query, hdr)
			if tt.hot {
				if a.header.Get("X-Cache") != "HOT" || a.body != "private notes" || a.header.Get("Cache-Control") != "private, no-cache" {
					t.Fatalf("want a hot private answer, got %d %v %q", a.status, a.header, a.body)
				}
				return
			}
			if a.header.Get("X-Cache") != "MISS" || a.header.Get("X-App") != "a" {
				t.Fatalf("want the app's answer, got %d %v %q", a.status, a.header, a.body)
			}
		})
	}
}

// TestStalePushAfterPurgeIsRefused: the revision fence.
func TestStalePushAfterPurgeIsRefused(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("v1"), etag: `"e1"`, ctype: "text/plain", filename: "f"}
	tier := startContentTier(t, app, Config{})
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"push rev 1", func() error { return tier.client.Push(ctx, app.entry("D1", 1, "public")) }, nil},
		{"re-push rev 1", func() error { return tier.client.Push(ctx, app.entry("D1", 1, "public")) }, nil},
		{"purge rev 2", func() error { return tier.client.Purge(ctx, "D1", 2) }, nil},
		{"stale push rev 1", func() error { return tier.client.Push(ctx, app.entry("D1", 1, "public")) }, ErrStale},
		{"push rev 2", func() error { return tier.client.Push(ctx, app.entry("D1", 2, "public")) }, nil},
		{"older purge keeps rev 2", func() error { return tier.client.Purge(ctx, "D1", 1) }, nil},
		{"push rev 1 under entry rev 2", func() error { return tier.client.Push(ctx, app.entry("D1", 1, "public")) }, ErrStale},
		// A demotion purges at the held revision: the entry goes, and the
		// same revision may come back when the document heats up again.
		{"purge at the entry's own revision evicts it", func() error {
			if err := tier.client.Purge(ctx, "D1", 2); err != nil {
				return err
			}
			return notListed(ctx, tier.client, "D1")
		}, nil},
		{"the same revision is pushed again", func() error { return tier.client.Push(ctx, app.entry("D1", 2, "public")) }, nil},
		{"an older one still is not", func() error { return tier.client.Push(ctx, app.entry("D1", 1, "public")) }, ErrStale},
		{"push too large", func() error {
			e := app.entry("D2", 1, "public")
			e.Body = []byte(strings.Repeat("x", 1<<20+1))
			return tier.client.Push(ctx, e)
		}, ErrTooLarge},
		{"wrong secret", func() error {
			c := *tier.client
			c.Secret = "wrong"
			return c.Push(ctx, app.entry("D3", 1, "public"))
		}, ErrForbidden},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.want)
		}
	}
	list, err := tier.client.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "D1" || list[0].Rev != 2 || list[0].Size != 2 {
		t.Fatalf("List = %+v, %v; want D1 at rev 2", list, err)
	}
	a := fetch(t, "GET", tier.base+"/api/v1/documents/D1/content", nil)
	if a.header.Get("X-Cache") != "HOT" {
		t.Fatalf("rev 2 should be served hot: %v", a.header)
	}
}

// TestHitsDrainCountsExactlyTheHotAnswers: proxied reads, HEADs and admin
// traffic are not counted; views and downloads are, with the full size.
func TestHitsDrainCountsExactlyTheHotAnswers(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("0123456789"), etag: `"e1"`, ctype: "text/plain", filename: "f"}
	tier := startContentTier(t, app, Config{Workers: 2})
	ctx := context.Background()
	if err := tier.client.Push(ctx, app.entry("H1", 1, "public")); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		fetch(t, "GET", tier.base+"/api/v1/documents/H1/content", nil)
	}
	for range 3 {
		fetch(t, "GET", tier.base+"/api/v1/documents/H1/content?download=1", map[string]string{"Range": "bytes=0-1"})
	}
	fetch(t, "HEAD", tier.base+"/api/v1/documents/H1/content", nil)
	fetch(t, "GET", tier.base+"/api/v1/documents/COLD/content", nil)
	fetch(t, "GET", tier.base+"/api/v1/documents/H1/content", map[string]string{"Range": "bytes=0-1,3-4"}) // proxied
	hits, err := tier.client.DrainHits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Hit{}
	for _, h := range hits {
		got[h.DocumentID+"/"+h.Kind] = h
	}
	want := map[string]Hit{
		"H1/view":     {DocumentID: "H1", Kind: "view", Count: 7, Bytes: 70},
		"H1/download": {DocumentID: "H1", Kind: "download", Count: 3, Bytes: 30},
	}
	if len(got) != len(want) || got["H1/view"] != want["H1/view"] || got["H1/download"] != want["H1/download"] {
		t.Fatalf("drained %+v, want %+v", hits, want)
	}
	again, err := tier.client.DrainHits(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second drain = %+v, %v; want nothing", again, err)
	}
}

// notListed fails when the hot tier still lists id.
func notListed(ctx context.Context, c *Client, id string) error {
	entries, err := c.List(ctx)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.ID == id {
			return fmt.Errorf("%s still listed at rev %d", id, e.Rev)
		}
	}
	return nil
}
