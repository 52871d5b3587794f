package server

import (
	"crypto/sha256"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/docs"
	"docplat/errs"
	"docplat/readtoken"
	"docplat/shares"
)

// shareRoutes are the share links' API and the public /s/{token}.
func (s *Server) shareRoutes(r *gin.Engine, v1 *gin.RouterGroup) {
	if s.deps.Shares == nil {
		return
	}
	v1.POST("/documents/:id/shares", s.createShare)
	v1.GET("/documents/:id/shares", s.listShares)
	v1.DELETE("/shares/:token", s.revokeShare)
	r.GET("/s/:token", s.serveShare)
	r.HEAD("/s/:token", s.serveShare)
}

type createShareBody struct {
	ExpiresInS   *int64 `json:"expires_in_s"`
	Password     string `json:"password"`
	MaxDownloads int64  `json:"max_downloads"`
}

func (s *Server) createShare(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	var in createShareBody
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.ExpiresInS == nil {
		abort(c, errs.BadRequest, "expires_in_s is required")
		return
	}
	sec := *in.ExpiresInS
	if sec < int64(shares.MinLife/time.Second) || sec > int64(shares.MaxLife/time.Second) {
		abort(c, errs.BadRequest, "expires_in_s must be between 60 and 31536000 (one year)")
		return
	}
	l, err := s.deps.Shares.Create(c.Request.Context(), actor(c), c.Param("id"), shares.NewLink{
		ExpiresIn: time.Duration(sec) * time.Second, Password: in.Password, MaxDownloads: in.MaxDownloads})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"id": l.ID, "token": l.Token, "url": "/s/" + l.Token, "expires_at": l.ExpiresAt})
}

// shareView is a listed link: never its token.
type shareView struct {
	ID           string     `json:"id"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	HasPassword  bool       `json:"has_password"`
	MaxDownloads *int64     `json:"max_downloads"`
	Downloads    int64      `json:"downloads"`
	Revoked      bool       `json:"revoked"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

func (s *Server) listShares(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	links, err := s.deps.Shares.List(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]shareView, len(links))
	for i, l := range links {
		out[i] = shareView{ID: l.ID, CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt,
			HasPassword: l.HasPassword(), Downloads: l.Downloads, Revoked: l.Revoked(), RevokedAt: l.RevokedAt}
		if l.MaxDownloads > 0 {
			out[i].MaxDownloads = &links[i].MaxDownloads
		}
	}
	c.JSON(http.StatusOK, list(out, int64(len(out)), 1, len(out)))
}

func (s *Server) revokeShare(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	if _, err := s.deps.Shares.Revoke(c.Request.Context(), actor(c), c.Param("token")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// shareCountsDownload says whether an answer counts as a download of a
// share link (documentation/api.md): a 200 does, a 206 only when its
// Range starts at byte 0 (a resumed or parallel download counts once, at
// its first part), a 304 or HEAD never.
func shareCountsDownload(r *http.Request, status int) bool {
	if r.Method != http.MethodGet {
		return false
	}
	if status == http.StatusOK {
		return true
	}
	spec, ok := strings.CutPrefix(strings.TrimSpace(r.Header.Get("Range")), "bytes=")
	if status != http.StatusPartialContent || !ok {
		return false
	}
	first, _, _ := strings.Cut(spec, ",")
	start, _, _ := strings.Cut(strings.TrimSpace(first), "-")
	n, err := strconv.ParseInt(strings.TrimSpace(start), 10, 64)
	return err == nil && n == 0
}

// serveShare answers GET /s/{token}: the content with the content policy's
// headers (ETag, Range, 304), or for a browser without ?download=1 a small
// landing page. The download limit is counted by the database before the
// first byte is sent.
func (s *Server) serveShare(c *gin.Context) {
	token := c.Param("token")
	password := c.GetHeader("X-Share-Password")
	if password == "" {
		password = c.Query("password")
	}
	browser := c.Request.Method == http.MethodGet && c.Query("download") != "1" && wantsHTML(c.Request)
	grant := c.Query("grant")
	l, d, err := s.deps.Shares.Open(c.Request.Context(), token, password, func(l shares.Link, d docs.Document) bool {
		return grant != "" && s.shareGrantValid(grant, l, d)
	})
	var retry *shares.RetryError
	switch {
	case errors.As(err, &retry):
		c.Header("Retry-After", strconv.Itoa(int(retry.After.Seconds())+1))
		s.fail(c, err)
		return
	case browser && errors.Is(err, shares.ErrPassword):
		s.shareLanding(c, http.StatusUnauthorized, token, nil)
		return
	case err != nil:
		s.fail(c, err)
		return
	case c.Query("grant") == "new" && c.Request.Method == http.MethodGet && password != "":
		s.grantShare(c, token, l, d)
		return
	case browser:
		s.shareLanding(c, http.StatusOK, token, &d)
		return
	}
	d, v, f, err := s.deps.Docs.ContentSystem(c.Request.Context(), d.ID, 0) // the link is the permission
	if err != nil {
		if errors.Is(err, docs.ErrNotFound) {
			err = shares.ErrNotFound
		}
		s.fail(c, err)
		return
	}
	defer f.Close()
	// A link's answer is the link's: never kept by a shared cache, which
	// would serve it past its revocation; the browser revalidates (304).
	s.writeContent(c, docs.Actor{}, d, v, f, c.Query("download") == "1", contentAnswer{cacheControl: shareCacheControl, shareID: l.ID, gate: func(status int) error {
		if !shareCountsDownload(c.Request, status) {
			return nil
		}
		err := s.deps.Shares.CountDownload(c.Request.Context(), l)
		if err != nil && errs.CodeOf(err) == errs.Internal {
			s.log.WarnContext(c.Request.Context(), "share download not counted", "err", err, "request_id", requestIDOf(c))
			return errs.Wrap(err, errs.Unavailable, "the share link's download count is unavailable; retry shortly")
		}
		return err
	}})
}

// shareCacheControl is the Cache-Control of every /s/ answer (nginx's
// serve.lua sets the same).
const shareCacheControl = "private, no-cache"

// A password link's browser gets a short-lived grant after the password
// checked out (GET /s/{token}?grant=new with X-Share-Password): a read token
// (readtoken) for the link's pseudo-user "share-<link id>" at the
// document's revision, signed with a key derived from the read-token
// secret that nginx does not hold, so it opens this link only, and only in
// the app, which checks the link on every use. The browser then downloads
// natively (?download=1&grant=...) instead of through script memory.
func (s *Server) shareGrantKey() []byte {
	sum := sha256.Sum256(append([]byte("docplat share grant\x00"), s.opt.ReadTokenSecret...))
	return sum[:]
}

func shareGrantUser(l shares.Link) string { return "share-" + l.ID }

func (s *Server) shareGrantValid(grant string, l shares.Link, d docs.Document) bool {
	if len(s.opt.ReadTokenSecret) == 0 {
		return false
	}
	uid, err := readtoken.Verify(s.shareGrantKey(), grant, d.ID, d.Revision, time.Now())
	return err == nil && uid == shareGrantUser(l)
}

func (s *Server) grantShare(c *gin.Context, token string, l shares.Link, d docs.Document) {
	if len(s.opt.ReadTokenSecret) == 0 {
		abort(c, errs.Unavailable, "share grants need the read-token secret")
		return
	}
	exp := time.Now().Add(s.opt.ReadTokenTTL).UTC().Truncate(time.Second)
	g := readtoken.Sign(s.shareGrantKey(), d.ID, shareGrantUser(l), d.Revision, exp)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"grant": g, "expires_at": exp,
		"url": "/s/" + url.PathEscape(token) + "?download=1&grant=" + url.QueryEscape(g)})
}

// wantsHTML reports whether the client prefers a page (a browser's
// navigation) to the bytes.
func wantsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.TrimSpace(mt) {
		case "text/html", "application/xhtml+xml":
			return true
		}
	}
	return false
}

// chinese reports whether the client's first language is Chinese.
func chinese(r *http.Request) bool {
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(first)), "zh")
}

type pageText struct {
	Lang, Title, Size, Download, Password, Submit, Wrong, Failed string
}

var (
	shareTextEN = pageText{Lang: "en", Title: "Shared document", Size: "Size", Download: "Download",
		Password: "This link is protected by a password.", Submit: "Open", Wrong: "Wrong password.", Failed: "The download failed."}
	shareTextZH = pageText{Lang: "zh", Title: "共享文档", Size: "大小", Download: "下载",
		Password: "此链接受密码保护。", Submit: "打开", Wrong: "密码错误。", Failed: "下载失败。"}
)

// shareLandingPage is the browser's view of a link; the password form
// sends the password in X-Share-Password for a grant (never in a URL or a
// server log) and then downloads with it.
var shareLandingPage = template.Must(template.New("share").Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{if .Doc}}{{.Doc.Title}}{{else}}{{.T.Title}}{{end}}</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style></head><body>
{{if .Doc}}<h1>{{.Doc.Title}}</h1>
<p>{{.Doc.Filename}} · {{.T.Size}}: {{.Size}}</p>
<p><a href="{{.Download}}" download>{{.T.Download}}</a></p>
{{else}}<h1>{{.T.Title}}</h1><p>{{.T.Password}}</p>
<form id="f"><input type="password" id="pw" required autocomplete="off"> <button>{{.T.Download}}</button></form>
<p id="msg" role="status"></p>
<script>
document.getElementById('f').onsubmit = async function (e) {
  e.preventDefault();
  var msg = document.getElementById('msg'); msg.textContent = '';
  var r = await fetch({{.Grant}}, {headers: {'X-Share-Password': document.getElementById('pw').value, 'Accept': 'application/json'}});
  if (r.status !== 201) { msg.textContent = r.status === 401 ? {{.T.Wrong}} : {{.T.Failed}}; return; }
  window.location.assign((await r.json()).url);
};
</script>{{end}}
</body></html>
`))

func (s *Server) shareLanding(c *gin.Context, status int, token string, d *docs.Document) {
	t := shareTextEN
	if chinese(c.Request) {
		t = shareTextZH
	}
	data := struct {
		T        pageText
		Doc      *docs.Document
		Size     string
		Download string
		Grant    string
	}{T: t, Doc: d, Download: "/s/" + url.PathEscape(token) + "?download=1", Grant: "/s/" + url.PathEscape(token) + "?grant=new"}
	if d != nil {
		data.Size = humanSize(d.Size)
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
	c.Header("Vary", "Accept, Accept-Language")
	c.Status(status)
	if err := shareLandingPage.Execute(c.Writer, data); err != nil {
		s.log.WarnContext(c.Request.Context(), "share landing page", "err", err)
	}
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}
