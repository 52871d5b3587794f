package docs

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"docplat/blob"
)

// An upload's stored type names the charset its bytes are in, decided from
// more than the 512 bytes the sniffer sees: a text whose first Chinese
// comes later is labelled right too.
func TestStageLabelsTheCharsetOfText(t *testing.T) {
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(nil, blobs, Options{})
	header := strings.Repeat("MECHANICS(7)   Physics Manual   MECHANICS(7)\n", 20) // 900 bytes of ASCII
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String(header + "力学是研究物体机械运动规律的科学。\n")
	big5, _ := traditionalchinese.Big5.NewEncoder().String(header + "力學是研究物體機械運動規律的科學。\n")
	gbHTML, _ := simplifiedchinese.GBK.NewEncoder().String("<html><head><title>课程</title></head><body>力学</body></html>")
	cases := []struct {
		name, filename, content, want string
	}{
		{"utf-8 text", "a.txt", header + "力学\n", "text/plain; charset=utf-8"},
		{"ascii text", "a.txt", header, "text/plain; charset=utf-8"},
		{"gb18030 text", "a.txt", gb, "text/plain; charset=gb18030"},
		{"big5 text", "a.txt", big5, "text/plain; charset=big5"},
		{"gb18030 markdown", "a.md", gb, "text/markdown; charset=gb18030"},
		{"big5 csv", "a.csv", big5, "text/csv; charset=big5"},
		{"gbk html", "a.html", gbHTML, "text/html; charset=gb18030"},
		{"json keeps its type", "a.json", `{"a": "力学"}`, "application/json"},
		{"utf-16 with its byte-order mark keeps its charset", "a.txt", "\xff\xfeh\x00i\x00", "text/plain; charset=utf-16le"},
		{"pdf has no charset", "a.pdf", "%PDF-1.4\n", "application/pdf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := s.Stage(bytes.NewReader([]byte(tc.content)), tc.filename)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Discard()
			if st.mime != tc.want {
				t.Errorf("stored type = %q, want %q", st.mime, tc.want)
			}
		})
	}
}
