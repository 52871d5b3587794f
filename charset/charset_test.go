package charset_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"docplat/charset"
	"docplat/internal/testcorpus"
)

func TestDetectNamesTheEncodingOfShortTexts(t *testing.T) {
	gbk := func(s string) []byte { b, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s)); return b }
	gb := func(s string) []byte { b, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s)); return b }
	big5 := func(s string) []byte { b, _ := traditionalchinese.Big5.NewEncoder().Bytes([]byte(s)); return b }
	cases := []struct {
		name string
		in   []byte
		cut  bool
		want string
	}{
		{"ascii is utf-8", []byte("hello"), false, charset.UTF8},
		{"utf-8 chinese", []byte("一年级课程表"), false, charset.UTF8},
		{"utf-8 cut inside a character is utf-8", []byte("一年级")[:7], true, charset.UTF8},
		{"gbk timetable", gbk("一年级课程表：语文、数学"), false, charset.GB18030},
		{"gbk physics", gbk("力学"), false, charset.GB18030},
		{"gbk cut inside a character", gbk("一年级课程表：语文、数学")[:23], true, charset.GB18030},
		{"gb18030 four-byte characters", gb("〇年级𠀀表，力学与热学"), false, charset.GB18030},
		{"big5 timetable", big5("一年級課程表：國語、數學"), false, charset.Big5},
		{"big5 physics", big5("力學與熱學的實驗"), false, charset.Big5},
		{"big5 cut inside a character", big5("力學與熱學的實驗")[:15], true, charset.Big5},
		{"valid in neither is utf-8", []byte("a\x81\xffb"), false, charset.UTF8},
		{"a cut lead byte without cut is invalid in both", []byte("ab\x81"), false, charset.UTF8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := charset.Detect(tc.in, tc.cut); got != tc.want {
				t.Errorf("Detect(% x, %v) = %s, want %s", tc.in, tc.cut, got, tc.want)
			}
		})
	}
}

func TestDecodeDropsACharacterSplitByTheCut(t *testing.T) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("课程表：数学"))
	big5, _ := traditionalchinese.Big5.NewEncoder().Bytes([]byte("課程表"))
	utf := []byte("课程表")
	cases := []struct {
		name, charset string
		in            []byte
		cut           bool
		want          string
	}{
		{"gbk whole", "gbk", gbk, false, "课程表：数学"},
		{"gbk label decodes as gb18030", "GB2312", gbk, false, "课程表：数学"},
		{"gbk cut", "gb18030", gbk[:len(gbk)-1], true, "课程表：数"},
		{"big5 cut", "big5", big5[:len(big5)-1], true, "課程"},
		{"utf-8 cut", "utf-8", utf[:len(utf)-1], true, "课程"},
		{"invalid utf-8 not cut is replaced", "utf-8", []byte("a\xffb"), false, "a\uFFFDb"},
		{"unknown charset is utf-8", "no-such-thing", []byte("x"), false, "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := charset.Decode(tc.in, tc.charset, tc.cut); got != tc.want {
				t.Errorf("Decode = %q, want %q", got, tc.want)
			}
		})
	}
}

// On the real text of the corpus, each page in each encoding, whole and
// as the beginnings an upload's sniffing and a preview see, is recognised
// and decodes to its text.
func TestDetectOnTheCorpus(t *testing.T) {
	zh := testcorpus.Pages(t, "zh", 200)
	en := testcorpus.Pages(t, "en", 50)
	type sample struct {
		name, want string
		b          []byte
	}
	var samples []sample
	for _, p := range zh {
		samples = append(samples,
			sample{p.Name + " utf-8", charset.UTF8, []byte(p.Text)},
			sample{p.Name + " gb18030", charset.GB18030, testcorpus.GB18030(t, p.Text)},
			sample{p.Name + " gbk", charset.GB18030, testcorpus.GBK(p.Text)},
			sample{p.Name + " big5", charset.Big5, testcorpus.Big5(p.Text)})
	}
	for _, p := range en {
		samples = append(samples, sample{p.Name + " english", charset.UTF8, []byte(p.Text)})
	}
	for _, size := range []int{1 << 10, 4 << 10, 64 << 10} {
		t.Run(fmt.Sprint("first ", size, " bytes"), func(t *testing.T) {
			wrong, tried := 0, 0
			for _, s := range samples {
				b, cut := s.b, false
				if len(b) > size {
					b, cut = b[:size], true
				}
				if s.want != charset.UTF8 && utf8.Valid(b) {
					continue // no Chinese in this beginning: nothing to tell
				}
				tried++
				if got := charset.Detect(b, cut); got != s.want {
					wrong++
					if wrong <= 5 {
						t.Errorf("%s: Detect = %s, want %s", s.name, got, s.want)
					}
				}
			}
			t.Logf("%d of %d samples named right", tried-wrong, tried)
			if tried < len(samples)/2 {
				t.Errorf("only %d of %d samples have Chinese in their first %d bytes", tried, len(samples), size)
			}
		})
	}
	// And decoding gives the text back.
	for _, p := range zh[:50] {
		if got := charset.Decode(testcorpus.GB18030(t, p.Text), charset.GB18030, false); got != p.Text {
			t.Errorf("%s: GB18030 does not decode to its text", p.Name)
		}
		b5 := testcorpus.Big5(p.Text)
		if got := charset.Decode(b5, charset.Big5, false); got != testcorpus.EncodableText(b5, true) || !strings.Contains(p.Text, firstLine(got)) {
			t.Errorf("%s: Big5 does not decode to its text", p.Name)
		}
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func BenchmarkDetect(b *testing.B) {
	p := testcorpus.Pages(b, "zh", 1)[0]
	in := testcorpus.GB18030(b, p.Text)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		charset.Detect(in, false)
	}
}
