package main

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"docplat/internal/testdb"
)

// TestLegacyChineseTextIsServedAndPreviewedInItsCharset: a .txt saved in
// GB18030 (or Big5) by older software is stored as that charset, its
// content is served with charset=gb18030 (big5) byte for byte, its preview
// is readable UTF-8, and its words are found by search.
func TestLegacyChineseTextIsServedAndPreviewedInItsCharset(t *testing.T) {
	const text = "MECHANICS(7)            Physics Manual            MECHANICS(7)\n\n" +
		"NAME\n       mechanics - 力学是研究物体机械运动规律的科学\n\n" +
		"DESCRIPTION\n       经典力学描述宏观物体的运动。热力学研究能量的转换。\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	big5, err := traditionalchinese.Big5.NewEncoder().String(strings.NewReplacer("力学是研究物体机械运动规律的科学", "力學是研究物體機械運動規律的科學",
		"经典力学描述宏观物体的运动。热力学研究能量的转换。", "經典力學描述宏觀物體的運動。熱力學研究能量的轉換。").Replace(text))
	if err != nil {
		t.Fatal(err)
	}
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		for _, tc := range []struct {
			charset, content, word string
		}{
			{"gb18030", gb, "力学"},
			{"big5", big5, "力學"},
		} {
			d := admin.mustUpload("mechanics-"+tc.charset+".txt", tc.content, map[string]string{"visibility": "public"})
			if want := "text/plain; charset=" + tc.charset; d.Mime != want {
				t.Errorf("%s: stored type %q, want %q", tc.charset, d.Mime, want)
			}
			r := a.anon().do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil)
			if r.status != 200 || r.header.Get("Content-Type") != "text/plain; charset="+tc.charset || !bytes.Equal(r.body, []byte(tc.content)) {
				t.Errorf("%s content: %d %q, %d bytes", tc.charset, r.status, r.header.Get("Content-Type"), len(r.body))
			}
			p := a.anon().do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t)
			if p.Kind != "text" || p.Charset != tc.charset || !strings.Contains(p.Text, tc.word+"是研究") || strings.ContainsRune(p.Text, '\uFFFD') {
				t.Errorf("%s preview: %+v", tc.charset, p)
			}
			if l := admin.search("q=" + url.QueryEscape(tc.word+"是研究")); !slices.Contains(ids(l), d.ID) {
				t.Errorf("%s: searching %q finds %v, not %s", tc.charset, tc.word+"是研究", ids(l), d.ID)
			}
		}
	})
}
