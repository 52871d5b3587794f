package preview

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TestMarkdownRemovesActiveContent runs an XSS list through the renderer:
// nothing that runs script, loads a foreign resource or styles the page
// may come out.
func TestMarkdownRemovesActiveContent(t *testing.T) {
	cases := []string{
		`<script>alert(1)</script>`,
		"para <script>alert(1)</script> inline",
		`<img src=x onerror=alert(1)>`,
		`<a href="javascript:alert(1)">x</a>`,
		`[x](javascript:alert(1))`,
		`[x](JaVaScRiPt:alert(1))`,
		`[x](  javascript:alert(1))`,
		`[x](vbscript:msgbox(1))`,
		"[x](java\tscript:alert(1))",
		`[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
		`![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`,
		`![x](http://evil.example/pixel.png)`,
		`![x](//evil.example/pixel.png)`,
		`![x](/api/v1/documents/abc/content" onerror="alert(1))`,
		`<iframe src="http://evil.example"></iframe>`,
		`<div style="background:url(javascript:alert(1))">x</div>`,
		`<p style="position:fixed">x</p>`,
		`<svg onload=alert(1)>`,
		`<object data="http://evil.example/x.swf"></object>`,
		`<form action="http://evil.example"><input name=p></form>`,
		`<base href="http://evil.example/">`,
		`<meta http-equiv="refresh" content="0;url=http://evil.example">`,
		`<link rel=stylesheet href="http://evil.example/x.css">`,
		`<style>body{display:none}</style>`,
		"```\n<script>alert(1)</script>\n```\n", // shown as code, escaped
		`<a href="http://example.com" onclick="alert(1)">x</a>`,
		`[x](http://example.com "t\" onmouseover=\"alert(1)")`,
		"<details open ontoggle=alert(1)>",
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"<a href=\"https://example.com\">raw html link</a>",
		"[mail](mailto:a@example.com) [frag](#x) [rel](other.md)",
		"<https://example.com/auto> and www.example.com",
		"<!-- <script>alert(1)</script> -->",
		"<scr<script>ipt>alert(1)</script>",
		`[x](&#106;avascript:alert(1))`,
		`[x](\u006aavascript:alert(1))`,
		"![x](/api/v1/documents/abc/content\" onerror=\"alert(1))",
	}
	for _, src := range cases {
		out := Markdown([]byte(src))
		if problem := active(t, out); problem != "" {
			t.Errorf("Markdown(%q) = %q: %s", src, out, problem)
		}
	}
}

// active parses rendered HTML as a browser would and names the first
// thing in it that could run script, load a foreign resource or restyle
// the page ("" when there is none).
func active(t *testing.T, out string) string {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]bool{"script": true, "style": true, "iframe": true, "frame": true, "object": true, "embed": true,
		"form": true, "svg": true, "math": true, "base": true, "meta": true, "link": true, "details": true, "textarea": true, "button": true}
	var walk func(n *html.Node) string
	walk = func(n *html.Node) string {
		if n.Type == html.ElementNode {
			if banned[n.Data] {
				return "element " + n.Data
			}
			for _, a := range n.Attr {
				key, val := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(key, "on"), key == "style", key == "srcset", key == "formaction":
					return "attribute " + key
				case key == "href" && !safeHref(val):
					return "href " + val
				case key == "src" && !sameOriginImage.MatchString(a.Val):
					return "src " + val
				case key == "rel" && a.Val != linkRel:
					return "rel " + val
				}
			}
			if n.Data == "a" && !hasAttr(n, "rel", linkRel) {
				return "a link without rel=" + linkRel
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if p := walk(c); p != "" {
				return p
			}
		}
		return ""
	}
	for _, n := range nodes {
		if p := walk(n); p != "" {
			return p
		}
	}
	return ""
}

// safeHref: a web or mail address, or a path without a scheme.
func safeHref(v string) bool {
	for _, p := range []string{"http://", "https://", "mailto:"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	i := strings.IndexAny(v, ":/?#")
	return i < 0 || v[i] != ':'
}

func hasAttr(n *html.Node, key, val string) bool {
	for _, a := range n.Attr {
		if a.Key == key && a.Val == val {
			return true
		}
	}
	return false
}

func TestMarkdownRendersGitHubFlavour(t *testing.T) {
	src := "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ and https://example.com/x and [link](https://example.org \"t\")\n\n- [x] done\n\n```go\nfmt.Println(1)\n```\n\n中文 *强调*\n"
	out := Markdown([]byte(src))
	for _, want := range []string{
		"<h1", ">Title</h1>", "<table>", "<td>1</td>", "<del>gone</del>",
		`<a href="https://example.com/x" rel="noopener nofollow ugc">https://example.com/x</a>`,
		`<a href="https://example.org" title="t" rel="noopener nofollow ugc">link</a>`,
		`<input checked="" disabled="" type="checkbox"`, `<code class="language-go">`, "<em>强调</em>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMarkdownImages(t *testing.T) {
	cases := map[string]string{
		"![chart](/api/v1/documents/abc123/content)":               `<img src="/api/v1/documents/abc123/content" alt="chart">`,
		"![old](/api/v1/documents/abc123/versions/2/content)":      `<img src="/api/v1/documents/abc123/versions/2/content" alt="old">`,
		"![a *b* pixel](https://tracker.example/p.gif)":            "<p>a b pixel</p>",
		"![rel](picture.png)":                                      "<p>rel</p>",
		"![up](/api/v1/documents/../../admin/users)":               "<p>up</p>",
		"![q](/api/v1/documents/abc/content?download=1)":           "<p>q</p>",
		"[![badge](https://ci.example/b.svg)](https://ci.example)": `<a href="https://ci.example" rel="noopener nofollow ugc">badge</a>`,
	}
	for src, want := range cases {
		if out := strings.TrimSpace(Markdown([]byte(src))); !strings.Contains(out, want) {
			t.Errorf("Markdown(%q) = %q, want it to contain %q", src, out, want)
		}
	}
}
