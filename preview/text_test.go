package preview

import (
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func TestTextDecodesTheLabelledCharset(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("课程表：数学"))
	if err != nil {
		t.Fatal(err)
	}
	// GBK is decoded as GB18030, its superset (package charset).
	if text, cs := Text(gbk, "text/plain; charset=gbk", false); text != "课程表：数学" || cs != "gb18030" {
		t.Errorf("GBK: got %q in %q", text, cs)
	}
	// Cut in the middle of the last character: the half is dropped.
	if text, _ := Text(gbk[:len(gbk)-1], "text/plain; charset=gb18030", true); text != "课程表：数" {
		t.Errorf("cut GB18030: got %q", text)
	}
	utf := []byte("课程表")
	if text, cs := Text(utf[:len(utf)-1], "text/plain; charset=utf-8", true); text != "课程" || cs != "utf-8" {
		t.Errorf("cut UTF-8: got %q in %q", text, cs)
	}
	if text, cs := Text([]byte("a\xffb"), "text/csv", false); text != "a\uFFFDb" || cs != "utf-8" {
		t.Errorf("invalid UTF-8 without a charset: got %q in %q", text, cs)
	}
	if _, cs := Text([]byte("x"), "text/plain; charset=no-such-thing", false); cs != "utf-8" {
		t.Errorf("unknown charset: used %q", cs)
	}
}

// Uploads are stored as "charset=utf-8" whatever their bytes: GBK text
// (not UTF-8, clean GB18030) is recognised, even when cut mid-character.
func TestTextRecognisesGBKLabelledUTF8(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("一年级课程表：语文、数学"))
	if err != nil {
		t.Fatal(err)
	}
	if text, cs := Text(gbk, "text/plain; charset=utf-8", false); text != "一年级课程表：语文、数学" || cs != "gb18030" {
		t.Errorf("GBK labelled UTF-8: got %q in %q", text, cs)
	}
	if text, cs := Text(gbk[:len(gbk)-1], "text/plain; charset=utf-8", true); text != "一年级课程表：语文、数" || cs != "gb18030" {
		t.Errorf("cut GBK labelled UTF-8: got %q in %q", text, cs)
	}
	// UTF-8 (even cut) stays UTF-8; so does text valid in neither.
	utf := []byte("一年级")
	if text, cs := Text(utf[:len(utf)-2], "text/plain; charset=utf-8", true); text != "一年" || cs != "utf-8" {
		t.Errorf("cut UTF-8: got %q in %q", text, cs)
	}
	if text, cs := Text([]byte("a\x81\xffb"), "text/plain; charset=utf-8", false); text != "a\uFFFDb" || cs != "utf-8" {
		t.Errorf("neither UTF-8 nor GB18030: got %q in %q", text, cs)
	}
}

// Big5 text stored before uploads were labelled by their charset (so as
// UTF-8) is recognised too, and a Big5 label is obeyed.
func TestTextRecognisesBig5(t *testing.T) {
	big5, err := traditionalchinese.Big5.NewEncoder().Bytes([]byte("一年級課程表：國語、數學"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range []string{"text/plain; charset=utf-8", "text/plain; charset=big5", "text/plain"} {
		if text, cs := Text(big5, mt, false); text != "一年級課程表：國語、數學" || cs != "big5" {
			t.Errorf("Big5 as %q: got %q in %q", mt, text, cs)
		}
	}
	if text, cs := Text(big5[:len(big5)-1], "text/plain; charset=utf-8", true); text != "一年級課程表：國語、數" || cs != "big5" {
		t.Errorf("cut Big5: got %q in %q", text, cs)
	}
}
