package preview

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkRel is what every link of a rendered document carries: the
// document's author is not the platform, so links pass no opener, no
// ranking and are marked user-generated.
const linkRel = "noopener nofollow ugc"

// sameOriginImage is the one kind of image source a preview keeps: a
// document's content on this server (the browser sends the viewer's own
// session, so the image's permission applies). Anything else (http(s),
// protocol-relative, data:, paths elsewhere) would let a document's
// author track its readers or smuggle content, and is replaced by the
// image's alt text.
var sameOriginImage = regexp.MustCompile(`^/api/v1/documents/[A-Za-z0-9_-]+/(versions/[0-9]+/)?content$`)

// markdown renders GitHub-flavoured Markdown without raw HTML (goldmark
// drops it unless told otherwise) and then sanitizes the result, so that a
// renderer bug alone never lets markup through.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify, extension.TaskList),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkPolicy{}, 100))),
)

// sanitizer is bluemonday's policy for user-generated content narrowed
// further: no style attributes, no iframes or forms (UGC has none), link
// rel fixed to linkRel, image sources as sameOriginImage says.
var sanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	p.AllowAttrs("src").Matching(sameOriginImage).OnElements("img")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+-]+$`)).OnElements("code")
	p.AllowAttrs("type", "checked", "disabled").OnElements("input") // task-list checkboxes
	p.RequireNoFollowOnLinks(true)
	return p
}()

// Markdown renders src to sanitized HTML.
func Markdown(src []byte) string {
	var out bytes.Buffer
	if err := markdown.Convert(src, &out); err != nil {
		// goldmark's renderer only fails when the writer does; a buffer does not.
		return ""
	}
	return sanitizer.Sanitize(out.String())
}

// linkPolicy rewrites the parsed document: every link gets linkRel, and
// images whose source is not sameOriginImage become their alt text.
type linkPolicy struct{}

func (linkPolicy) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var drop []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link, *ast.AutoLink:
			n.SetAttributeString("rel", []byte(linkRel))
		case *ast.Image:
			if !sameOriginImage.Match(n.Destination) {
				drop = append(drop, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, img := range drop {
		img.Parent().ReplaceChild(img.Parent(), img, ast.NewString([]byte(altText(img, src))))
	}
}

// altText is the plain text of an image's description.
func altText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
		case *ast.String:
			b.Write(c.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
