package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"docplat/internal/internalapi"
	"docplat/readtoken"
)

// adminSend sends one admin request with the given signature header (empty:
// none) and extra headers, and returns the status.
func adminSend(t *testing.T, tier *testTier, method, uri string, body []byte, sig string, h map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, tier.client.Admin+uri, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if sig != "" {
		req.Header.Set(internalapi.SignatureHeader, sig)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestAdminTakesOnlyFreshSignedRequests: Go's internalapi.Signature against
// admin.lua's check. nginx accepts what Go signs with its secret within
// internalapi.SignatureWindow, once, and refuses everything else: no
// signature, the bare secret (the old header), another secret, an altered
// method, URI, body or signed header, a time outside the window, a replay.
func TestAdminTakesOnlyFreshSignedRequests(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("signed"), etag: `"e1"`, ctype: "text/plain", filename: "s.txt"}
	tier := startContentTier(t, app, Config{})
	ctx := context.Background()
	if err := tier.client.Push(ctx, app.entry("S1", 5, "public")); err != nil {
		t.Fatalf("a push signed by the Go client: %v", err)
	}
	now := time.Now()
	sign := func(secret, method, uri string, body []byte, at time.Time, nonce string) string {
		return internalapi.Signature(secret, internalapi.Request{Method: method, URI: uri, Body: body, Names: signedHeaders}, at, nonce)
	}
	const purge = "/_hot/docs/S1?rev=9"
	nonce := 0
	fresh := func() string { nonce++; return fmt.Sprintf("%016x", nonce) }
	window := internalapi.SignatureWindow
	refused := []struct {
		name   string
		method string
		uri    string
		body   []byte
		sig    string
		hdr    map[string]string
		want   int
	}{
		{"no signature", "DELETE", purge, nil, "", nil, 401},
		{"the bare secret", "DELETE", purge, nil, "", map[string]string{internalapi.Header: testSecret}, 401},
		{"malformed", "DELETE", purge, nil, "v1.123.abc.def", nil, 401},
		{"another secret", "DELETE", purge, nil, sign("another-secret-0123456789", "DELETE", purge, nil, now, fresh()), nil, 403},
		{"another method", "DELETE", purge, nil, sign(testSecret, "PUT", purge, nil, now, fresh()), nil, 403},
		{"another URI", "DELETE", purge, nil, sign(testSecret, "DELETE", "/_hot/docs/S1?rev=8", nil, now, fresh()), nil, 403},
		{"another body", "DELETE", purge, []byte("x"), sign(testSecret, "DELETE", purge, nil, now, fresh()), nil, 403},
		{"stale", "DELETE", purge, nil, sign(testSecret, "DELETE", purge, nil, now.Add(-window-2*time.Second), fresh()), nil, 401},
		{"from the future", "DELETE", purge, nil, sign(testSecret, "DELETE", purge, nil, now.Add(window+2*time.Second), fresh()), nil, 401},
	}
	for _, r := range refused {
		if got := adminSend(t, tier, r.method, r.uri, r.body, r.sig, r.hdr); got != r.want {
			t.Errorf("%s: status %d, want %d", r.name, got, r.want)
		}
	}
	// A push whose X-Doc-Rev was changed on the way (the body is the same).
	e := app.entry("S1", 9, "public")
	var pushed http.Header
	rec := &Client{Admin: tier.client.Admin, Secret: testSecret, HTTP: &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		pushed = r.Header.Clone()
		return nil, errors.New("recorded")
	})}}
	_ = rec.Push(ctx, e)
	hdr := map[string]string{}
	for k := range pushed {
		hdr[k] = pushed.Get(k)
	}
	hdr["X-Doc-Rev"] = "99"
	if got := adminSend(t, tier, "PUT", "/_hot/docs/S1", e.Body, "", hdr); got != 403 {
		t.Errorf("a signed push with another X-Doc-Rev: status %d, want 403", got)
	}
	hdr["X-Doc-Rev"] = "9"
	// A signed header sent twice: nginx would read a list where Go signed
	// one value.
	req, _ := http.NewRequest("PUT", tier.client.Admin+"/_hot/docs/S1", bytes.NewReader(e.Body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Add("X-Doc-Rev", "99")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("a signed push with X-Doc-Rev twice: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	if got := adminSend(t, tier, "PUT", "/_hot/docs/S1", e.Body, "", hdr); got != 200 {
		t.Errorf("the same signed push unaltered: status %d, want 200", got)
	}
	if got := adminSend(t, tier, "PUT", "/_hot/docs/S1", e.Body, "", hdr); got != 401 {
		t.Errorf("the same signed push again (a replay): status %d, want 401", got)
	}
	if l, err := tier.client.List(ctx); err != nil || len(l) != 1 || l[0].Rev != 9 {
		t.Fatalf("after refused purges List = %+v, %v; want S1 still there", l, err)
	}

	// Inside the window (a clock a little behind) is accepted, once.
	ok := sign(testSecret, "DELETE", purge, nil, now.Add(-window+5*time.Second), fresh())
	if got := adminSend(t, tier, "DELETE", purge, nil, ok, nil); got != 200 {
		t.Fatalf("a signed purge inside the window: status %d, want 200", got)
	}
	if got := adminSend(t, tier, "DELETE", purge, nil, ok, nil); got != 401 {
		t.Fatalf("the same signed purge again (a replay): status %d, want 401", got)
	}
	if l, err := tier.client.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("after the signed purge List = %+v, %v; want empty", l, err)
	}

	// The Go client says what nginx refused, the clock skew included.
	skewed := &Client{Admin: tier.client.Admin, Secret: testSecret, Now: func() time.Time { return time.Now().Add(-time.Hour) }}
	if _, err := skewed.List(ctx); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "clock") {
		t.Fatalf("a client an hour behind: %v, want ErrForbidden naming the clock", err)
	}
	wrong := &Client{Admin: tier.client.Admin, Secret: "another-secret-0123456789"}
	if _, err := wrong.List(ctx); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a client with another secret: %v, want ErrForbidden", err)
	}
}

// nonLoopbackIP is an address of this machine off loopback, or 127.0.0.2
// (still loopback to the kernel, but not the 127.0.0.1 the listener was
// once bound to) when the machine has none.
func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return "127.0.0.2"
}

// TestRevocationReachesAnEdgeOnAPrivateAddress: an edge whose admin
// listener is bound to a non-loopback address (another machine's, as the
// apps see it) takes the apps' signed purge and revocation, and a
// document purged there is no longer served hot.
func TestRevocationReachesAnEdgeOnAPrivateAddress(t *testing.T) {
	ip := nonLoopbackIP(t)
	t.Logf("admin listener on %s", ip)
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("no free port on %s: %v", ip, err)
	}
	admin := l.Addr().String()
	_ = l.Close()
	app := &contentApp{name: "a", body: []byte("remote"), etag: `"e1"`, ctype: "text/plain", filename: "r.txt"}
	const tokenSecret = "edge-token-secret-0123456789"
	tier := startContentTier(t, app, Config{AdminListen: admin, TokenSecret: tokenSecret, ReadTokenTTL: time.Second})
	if tier.client.Admin != "http://"+admin {
		t.Fatalf("admin at %s, want %s", tier.client.Admin, admin)
	}
	ctx := context.Background()
	opts := EdgeOptions{Admins: []string{"http://" + admin}, MaxEntryBytes: 1 << 20}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	edges, _ := opts.Edges(testSecret)
	e := app.entry("R1", 7, "public")
	if err := tier.client.Push(ctx, e); err != nil {
		t.Fatal(err)
	}
	if a := fetch(t, "GET", tier.base+"/api/v1/documents/R1/content", nil); a.header.Get("X-Cache") != "HOT" {
		t.Fatalf("before the purge X-Cache = %q, want HOT", a.header.Get("X-Cache"))
	}
	if got := adminSend(t, tier, "DELETE", "/_hot/docs/R1?rev=7", nil, "", nil); got != 401 {
		t.Fatalf("an unsigned purge over the network: status %d, want 401", got)
	}
	if err := edges[0].Purge(ctx, "R1", 7); err != nil {
		t.Fatalf("the apps' purge over the network: %v", err)
	}
	if a := fetch(t, "GET", tier.base+"/api/v1/documents/R1/content", nil); a.header.Get("X-Cache") != "MISS" {
		t.Fatalf("after the purge X-Cache = %q, want MISS (the app)", a.header.Get("X-Cache"))
	}

	// A user's read token, served hot until the user's rights change.
	if err := tier.client.Push(ctx, app.entry("R2", 3, "department")); err != nil {
		t.Fatal(err)
	}
	tok := readtoken.Sign([]byte(tokenSecret), "R2", "u1", 3, readtoken.Expiry(time.Now().Add(2*time.Second), time.Hour))
	if !hotFor(t, tier, "R2", tok) {
		t.Fatal("the user's token must be served hot before the revocation")
	}
	r := opts.Revoker(testSecret, time.Hour)
	r.Now = func() time.Time { return time.Now().Add(2 * time.Second) }
	if err := r.RightsChanged(ctx, "u1"); err != nil {
		t.Fatalf("the apps' revocation over the network: %v", err)
	}
	if hotFor(t, tier, "R2", tok) {
		t.Fatal("a revoked user's token was served hot by the edge on " + ip)
	}

	// nginx stopped, its machine up: the connection is refused, which the
	// purge and the revocation skip (nothing serves, and a restart starts
	// empty), as on loopback.
	if err := tier.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := edges[0].Purge(ctx, "R1", 8); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("a purge of a stopped edge on %s: %v, want ECONNREFUSED", ip, err)
	}
	if err := r.RightsChanged(ctx, "u2"); err != nil {
		t.Fatalf("a revocation with the edge stopped: %v, want it skipped", err)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
