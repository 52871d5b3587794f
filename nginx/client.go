package nginx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"docplat/internal/internalapi"
)

// Errors the admin API answers with, so that the app can tell "someone was
// newer" from "nginx is unwell".
var (
	ErrStale        = errors.New("nginx: a newer revision is already pushed or purged")  // 409
	ErrTooLarge     = errors.New("nginx: the entry exceeds the hot tier's size limit")   // 413
	ErrFull         = errors.New("nginx: the hot tier is full")                          // 507
	ErrPurgeTimeout = errors.New("nginx: not every worker confirmed the purge in time")  // 504
	ErrForbidden    = errors.New("nginx: the admin API refused the request's signature") // 401, 403
)

// signedHeaders are the admin requests' headers the signature covers
// besides the method, URI and body: every one admin.lua reads. Rendered
// into the Lua configuration, so both sides take them from here.
var signedHeaders = []string{"X-Doc-Rev", "X-Doc-Version", "X-Doc-Visibility", "X-Doc-Not-Before",
	"X-Doc-Headers", "X-Share-Key", "X-Doc-Id", "X-Share-Expires"}

// Client talks to one nginx's admin listener.
type Client struct {
	Admin  string       // base URL, e.g. "http://127.0.0.1:8089"
	Secret string       // the Config.Secret nginx was rendered with; signs every request
	HTTP   *http.Client // nil: a client with a 5s timeout
	// Now is the clock requests are signed with; nil: time.Now. nginx
	// refuses a signature more than internalapi.SignatureWindow off its
	// own clock, so edges and apps keep their clocks in sync (NTP).
	Now func() time.Time
}

// Entry is a document's current bytes and the headers the hot tier serves
// them with, as the app would: the hot tier replays View or Download
// verbatim and decides only what depends on the request (304, Range).
type Entry struct {
	ID         string
	Rev        int64  // metadata revision: the fence
	Version    int    // content version
	Visibility string // public | department | private: whether a read token is needed
	// NotBefore (zero: none) is when the entry may first be served: a
	// document scheduled for publication is pushed ahead of time, and
	// before NotBefore every request falls through to the app (which
	// answers non-managers 404). Whole seconds: the app truncates
	// publication times to seconds.
	NotBefore time.Time
	// View and Download are every header of the app's full (200) answer to
	// a view and to a download (?download=1); both must hold the quoted
	// ETag and the Content-Type.
	View, Download http.Header
	Body           []byte
}

// Listed is one entry of List.
type Listed struct {
	ID         string  `json:"id"`
	Rev        int64   `json:"rev"`
	Version    int     `json:"version"`
	Size       int64   `json:"size"`
	Visibility string  `json:"visibility"`
	StoredAt   float64 `json:"stored_at"`            // unix seconds
	NotBefore  int64   `json:"not_before,omitempty"` // unix seconds, 0: none
}

// Hit is the hot tier's reads of one document and kind since the last drain.
type Hit struct {
	DocumentID string `json:"document_id"`
	Kind       string `json:"kind"` // view | download, as docs.AccessView/AccessDownload
	Count      int64  `json:"count"`
	Bytes      int64  `json:"bytes"`
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, h http.Header) ([]byte, error) {
	api := internalapi.Client{Base: c.Admin, Secret: c.Secret, HTTP: c.HTTP, Timeout: 5 * time.Second,
		Signed: true, SignedHeaders: signedHeaders, Now: c.Now}
	resp, err := api.Do(ctx, method, path, bytes.NewReader(body), h)
	if err != nil {
		return nil, fmt.Errorf("nginx admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
		return b, nil
	case http.StatusConflict:
		return nil, ErrStale
	case http.StatusRequestEntityTooLarge:
		return nil, ErrTooLarge
	case http.StatusInsufficientStorage:
		return nil, ErrFull
	case http.StatusGatewayTimeout:
		return nil, ErrPurgeTimeout
	case http.StatusUnauthorized, http.StatusForbidden:
		// The body says which: another secret, a clock out of the window.
		return nil, fmt.Errorf("%w: %s: %.200s", ErrForbidden, resp.Status, b)
	}
	return nil, fmt.Errorf("nginx admin %s %s: %s: %.200s", method, path, resp.Status, b)
}

// Push stores e as the document's hot entry. ErrStale means a newer
// revision (or a purge of one) got there first, which is fine.
func (c *Client) Push(ctx context.Context, e Entry) error {
	if e.ID == "" {
		return errors.New("nginx: Push needs an id")
	}
	h := http.Header{}
	h.Set("X-Doc-Rev", strconv.FormatInt(e.Rev, 10))
	h.Set("X-Doc-Version", strconv.Itoa(e.Version))
	h.Set("X-Doc-Visibility", e.Visibility)
	if !e.NotBefore.IsZero() {
		// Rounded up, so that nginx never serves before the app would.
		nb := e.NotBefore.Unix()
		if e.NotBefore.After(time.Unix(nb, 0)) {
			nb++
		}
		h.Set("X-Doc-Not-Before", strconv.FormatInt(nb, 10))
	}
	headers, err := json.Marshal(map[string]http.Header{"view": e.View, "download": e.Download})
	if err != nil {
		return err
	}
	h.Set("X-Doc-Headers", string(headers))
	_, err = c.do(ctx, http.MethodPut, "/_hot/docs/"+url.PathEscape(e.ID), e.Body, h)
	return err
}

// Purge evicts the entry if its revision is rev or older, refuses later
// pushes older than rev, and returns once no nginx worker can serve the
// evicted bytes any more (ErrPurgeTimeout otherwise).
func (c *Client) Purge(ctx context.Context, id string, rev int64) error {
	_, err := c.do(ctx, http.MethodDelete, "/_hot/docs/"+url.PathEscape(id)+"?rev="+strconv.FormatInt(rev, 10), nil, nil)
	return err
}

// List returns the hot entries, sorted by id.
func (c *Client) List(ctx context.Context) ([]Listed, error) {
	b, err := c.do(ctx, http.MethodGet, "/_hot/docs", nil, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Items []Listed `json:"items"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("nginx: decoding the entry list: %w", err)
	}
	return out.Items, nil
}

// DrainHits returns the hot tier's reads since the last drain and removes
// exactly those from its counters; the caller must record them (the app's
// RecordAccess) or they are lost.
func (c *Client) DrainHits(ctx context.Context) ([]Hit, error) {
	b, err := c.do(ctx, http.MethodGet, "/_hot/hits", nil, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Items []Hit `json:"items"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("nginx: decoding the hit counts: %w", err)
	}
	return out.Items, nil
}

// RevokeUser makes nginx refuse userID's read tokens that expire at or
// before until (readtoken.RevocationCutoff), keeping a later cutoff already
// set. It returns once every worker refuses them: the table is shared
// memory, read on each check.
func (c *Client) RevokeUser(ctx context.Context, userID string, until time.Time) error {
	if userID == "" {
		return errors.New("nginx: RevokeUser needs a user id")
	}
	_, err := c.do(ctx, http.MethodPut, "/_hot/users/"+url.PathEscape(userID)+"/revoke?until="+strconv.FormatInt(until.Unix(), 10), nil, nil)
	return err
}

// PushShare lets the hot tier answer a share link (one without password
// and without download limit) until expires: key is the SHA-1 of its token
// in hex (shares.EdgeKey), so nginx never holds the token itself. The link
// is answered from the document's hot entry only; without one nginx asks
// the app.
func (c *Client) PushShare(ctx context.Context, linkID, key, documentID string, expires time.Time) error {
	h := http.Header{}
	h.Set("X-Share-Key", key)
	h.Set("X-Doc-Id", documentID)
	h.Set("X-Share-Expires", strconv.FormatInt(expires.Unix(), 10))
	_, err := c.do(ctx, http.MethodPut, "/_hot/shares/"+url.PathEscape(linkID), nil, h)
	return err
}

// DropShare stops the hot tier answering a share link; every worker reads
// the one shared dict, so it takes effect with the next request.
func (c *Client) DropShare(ctx context.Context, linkID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/_hot/shares/"+url.PathEscape(linkID), nil, nil)
	return err
}
