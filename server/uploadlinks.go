package server

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/errs"
	"docplat/shares"
	"docplat/uploadlinks"
)

// uploadLinkRoutes are the upload links' API and the public /u/{token}.
func (s *Server) uploadLinkRoutes(r *gin.Engine, v1 *gin.RouterGroup) {
	if s.deps.UploadLinks == nil {
		return
	}
	v1.POST("/upload-links", s.createUploadLink)
	v1.GET("/upload-links", s.listUploadLinks)
	v1.DELETE("/upload-links/:id", s.revokeUploadLink)
	r.GET("/u/:token", s.uploadPage)
	r.POST("/u/:token", s.uploadThroughLink)
}

type createUploadLinkBody struct {
	Title         string   `json:"title"`
	Tags          []string `json:"tags"`
	ExpiresInS    *int64   `json:"expires_in_s"`
	Password      string   `json:"password"`
	MaxFiles      int64    `json:"max_files"`
	MaxFileBytes  int64    `json:"max_file_bytes"`
	MaxTotalBytes int64    `json:"max_total_bytes"`
}

// uploadLinkView is a listed link: never its token.
type uploadLinkView struct {
	uploadlinks.Link
	HasPassword bool `json:"has_password"`
	Revoked     bool `json:"revoked"`
}

func viewUploadLink(l uploadlinks.Link) uploadLinkView {
	if l.Tags == nil {
		l.Tags = []string{}
	}
	return uploadLinkView{Link: l, HasPassword: l.HasPassword(), Revoked: l.RevokedAt != nil}
}

func (s *Server) createUploadLink(c *gin.Context) {
	u, ok := requireUser(c)
	if !ok {
		return
	}
	var in createUploadLinkBody
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
	l, err := s.deps.UploadLinks.Create(c.Request.Context(), u, uploadlinks.NewLink{Title: in.Title, Tags: in.Tags, ExpiresIn: time.Duration(sec) * time.Second,
		Password: in.Password, MaxFiles: in.MaxFiles, MaxFileBytes: in.MaxFileBytes, MaxTotalBytes: in.MaxTotalBytes})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, struct {
		uploadLinkView
		Token string `json:"token"`
		URL   string `json:"url"`
	}{viewUploadLink(l.Link), l.Token, "/u/" + l.Token})
}

func (s *Server) listUploadLinks(c *gin.Context) {
	u, ok := requireUser(c)
	if !ok {
		return
	}
	links, err := s.deps.UploadLinks.List(c.Request.Context(), u)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]uploadLinkView, len(links))
	for i, l := range links {
		out[i] = viewUploadLink(l)
	}
	c.JSON(http.StatusOK, list(out, int64(len(out)), 1, len(out)))
}

func (s *Server) revokeUploadLink(c *gin.Context) {
	u, ok := requireUser(c)
	if !ok {
		return
	}
	if _, err := s.deps.UploadLinks.Revoke(c.Request.Context(), u, c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// uploadPasswordHeader carries an upload link's password.
const uploadPasswordHeader = "X-Upload-Password"

// uploadThroughLink answers POST /u/{token} (multipart 'file', optional
// 'password' before it): a receipt only, never the document.
func (s *Server) uploadThroughLink(c *gin.Context) {
	token := c.Param("token")
	l, err := s.deps.UploadLinks.Open(c.Request.Context(), token, "", false) // a gone link is refused before its body is read
	if err != nil {
		s.failLink(c, err)
		return
	}
	password := c.GetHeader(uploadPasswordHeader)
	if l.HasPassword() && password != "" {
		if l, err = s.deps.UploadLinks.Open(c.Request.Context(), token, password, true); err != nil {
			s.failLink(c, err)
			return
		}
	}
	form, ok := s.readUpload(c, "password")
	if !ok {
		return
	}
	defer form.file.Discard()
	if l.HasPassword() && password == "" {
		if l, err = s.deps.UploadLinks.Open(c.Request.Context(), token, form.fields["password"], true); err != nil {
			s.failLink(c, err)
			return
		}
	}
	if _, err := s.deps.UploadLinks.Upload(c.Request.Context(), l, form.file); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"name": form.file.Filename(), "size": form.file.Size(), "sha256": form.file.SHA256()})
}

func (s *Server) failLink(c *gin.Context, err error) {
	var retry *shares.RetryError
	if errors.As(err, &retry) {
		c.Header("Retry-After", strconv.Itoa(int(retry.After.Seconds())+1))
	}
	s.fail(c, err)
}

type uploadPageText struct {
	Lang, Heading, Choose, Password, Send, Done, Failed, Gone, Left string
}

var (
	uploadTextEN = uploadPageText{Lang: "en", Heading: "Upload", Choose: "File", Password: "Password", Send: "Upload",
		Done: "Received", Failed: "The upload failed", Left: "files left"}
	uploadTextZH = uploadPageText{Lang: "zh", Heading: "上传", Choose: "文件", Password: "密码", Send: "上传",
		Done: "已收到", Failed: "上传失败", Left: "剩余文件数"}
)

// uploadPage posts the file with XMLHttpRequest, whose upload progress
// drives the bar; a signed-in browser sends its CSRF token too.
var uploadPage = template.Must(template.New("upload").Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}progress{width:100%}</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.T.Left}}: {{.Left}}</p>
<form id="f">
<label>{{.T.Choose}} <input type="file" id="file" required></label><br>
{{if .Password}}<label>{{.T.Password}} <input type="password" id="pw" required autocomplete="off"></label><br>{{end}}
<button>{{.T.Send}}</button>
</form>
<progress id="bar" max="100" value="0"></progress>
<p id="msg" role="status"></p>
<script>
document.getElementById('f').onsubmit = function (e) {
  e.preventDefault();
  var file = document.getElementById('file').files[0], msg = document.getElementById('msg'), bar = document.getElementById('bar');
  var body = new FormData(); body.append('file', file);
  var x = new XMLHttpRequest(); x.open('POST', {{.Action}});
  var pw = document.getElementById('pw'); if (pw) x.setRequestHeader('X-Upload-Password', pw.value);
  var m = /(?:^|; )docplat_csrf=([^;]*)/.exec(document.cookie); if (m) x.setRequestHeader('X-CSRF-Token', decodeURIComponent(m[1]));
  x.upload.onprogress = function (ev) { if (ev.lengthComputable) bar.value = 100 * ev.loaded / ev.total; };
  x.onload = function () {
    var r = {}; try { r = JSON.parse(x.responseText); } catch (_) {}
    msg.textContent = x.status === 201 ? {{.T.Done}} + ': ' + r.name + ' (' + r.size + ' B, sha256 ' + r.sha256 + ')'
      : {{.T.Failed}} + ' (' + x.status + (r.error ? ': ' + r.error.message : '') + ')';
  };
  x.onerror = function () { msg.textContent = {{.T.Failed}}; };
  msg.textContent = ''; bar.value = 0; x.send(body);
};
</script>
</body></html>
`))

func (s *Server) uploadPage(c *gin.Context) {
	token := c.Param("token")
	l, err := s.deps.UploadLinks.Open(c.Request.Context(), token, "", false)
	if err != nil {
		s.fail(c, err)
		return
	}
	t := uploadTextEN
	if chinese(c.Request) {
		t = uploadTextZH
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
	c.Header("Vary", "Accept-Language")
	c.Status(http.StatusOK)
	data := struct {
		T        uploadPageText
		Title    string
		Left     int64
		Password bool
		Action   string
	}{t, l.Title, l.MaxFiles - l.Files, l.HasPassword(), "/u/" + url.PathEscape(token)}
	if err := uploadPage.Execute(c.Writer, data); err != nil {
		s.log.WarnContext(c.Request.Context(), "upload page", "err", err)
	}
}
