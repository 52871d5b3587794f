// Package charset tells which character encoding a text is in, among those
// docplat's users save text in: UTF-8, and the legacy Chinese encodings
// GB18030 (a superset of GBK and GB2312, what older tools in mainland
// China write) and Big5 (Taiwan, Hong Kong), and decodes it to UTF-8. It is
// the one place that decision is made: the upload's stored type (and so
// the charset served with the content), the text preview and the text
// extracted for search all ask it. It imports no other docplat package.
package charset

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// The charsets Detect answers, named as the WHATWG encoding standard (and
// so browsers, and a Content-Type's charset parameter) names them.
const (
	UTF8    = "utf-8"
	GB18030 = "gb18030"
	Big5    = "big5"
)

// Detect names the charset of text, of which b is the beginning when cut is
// true (a character split at the end is then no evidence against an
// encoding). Valid UTF-8 (ASCII included) is UTF-8. Otherwise GB18030 and
// Big5 are scored, and the better wins if b is valid in it (a stray bad
// byte in a hundred characters is forgiven); text valid in neither is
// called UTF-8, to be shown with replacement characters.
//
// The score of an encoding is the share of b's two-byte characters that are
// in its standard's table of common characters: GB2312's level 1 (3,755
// characters "in common use", bytes B0A1-D7FE) plus its symbol rows,
// or Big5's "frequently used" characters (5,401, bytes A440-C67E) plus its
// symbols. Chinese text is mostly made of common characters, so the right
// encoding scores near 1; read in the wrong one the same bytes mostly land
// on rare characters, holes or the other table's edges (GB2312 text read as
// Big5, or Big5 as GB18030, scores about 0.4-0.6). Counting in the bytes
// rather than in decoded text gives the same verdict without decoding
// twice, so the answer costs no allocation.
func Detect(b []byte, cut bool) string {
	if utf8.Valid(dropCutUTF8(b, cut)) {
		return UTF8
	}
	gb := scoreGB18030(b, cut)
	big := scoreBig5(b, cut)
	switch {
	case gb.ok() && (!big.ok() || gb.share() >= big.share()):
		return GB18030
	case big.ok():
		return Big5
	}
	return UTF8
}

// score counts an encoding's evidence in a text.
type score struct {
	multi, common, invalid int // multi-byte characters, of them common, invalid sequences
}

// ok: the text is valid in the encoding, but for about one bad sequence in
// a hundred characters (a file edited by a tool that cut a character).
func (s score) ok() bool { return s.multi > 0 && s.invalid*100 <= s.multi }

func (s score) share() float64 { return float64(s.common) / float64(s.multi) }

// scoreGB18030 walks b as GB18030: one byte 00-7F (80 is the euro sign of
// GBK's code page), two bytes 81-FE 40-7E|80-FE, four bytes 81-FE 30-39
// 81-FE 30-39.
func scoreGB18030(b []byte, cut bool) score {
	var s score
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		if c == 0x80 || c == 0xFF {
			s.invalid++
			i++
			continue
		}
		if i+1 >= len(b) {
			if !cut {
				s.invalid++
			}
			break
		}
		t := b[i+1]
		switch {
		case 0x40 <= t && t <= 0xFE && t != 0x7F:
			s.multi++
			if gbCommon(c, t) {
				s.common++
			}
			i += 2
		case 0x30 <= t && t <= 0x39:
			if i+3 >= len(b) {
				if !cut {
					s.invalid++
				}
				i = len(b)
				break
			}
			if t3, t4 := b[i+2], b[i+3]; 0x81 <= t3 && t3 <= 0xFE && 0x30 <= t4 && t4 <= 0x39 {
				s.multi++
				i += 4
			} else {
				s.invalid++
				i++
			}
		default:
			s.invalid++
			i++
		}
	}
	return s
}

// gbCommon: GB2312's punctuation, numbers, full-width forms and box drawing
// (rows A1-A3, A9: tables in text drawn with ─ and │ are common) and its
// level-1 characters (rows B0-D7).
func gbCommon(lead, trail byte) bool {
	if trail < 0xA1 || trail == 0xFF {
		return false
	}
	return (0xA1 <= lead && lead <= 0xA3) || lead == 0xA9 || (0xB0 <= lead && lead <= 0xD7)
}

// scoreBig5 walks b as Big5 (with the Hong Kong extensions x/text decodes):
// one byte 00-7F, two bytes 81-FE 40-7E|A1-FE. (The few pairs in those
// ranges that the table leaves empty count as valid: they decode as U+FFFD.)
func scoreBig5(b []byte, cut bool) score {
	var s score
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		if c == 0x80 || c == 0xFF {
			s.invalid++
			i++
			continue
		}
		if i+1 >= len(b) {
			if !cut {
				s.invalid++
			}
			break
		}
		t := b[i+1]
		if (0x40 <= t && t <= 0x7E) || (0xA1 <= t && t <= 0xFE) {
			s.multi++
			if big5Common(c, t) {
				s.common++
			}
			i += 2
			continue
		}
		s.invalid++
		i++
	}
	return s
}

// big5Common: Big5's punctuation and symbols (A140-A3BF) and its frequently
// used characters (A440-C67E).
func big5Common(lead, trail byte) bool {
	switch {
	case 0xA1 <= lead && lead <= 0xA2, lead == 0xA3 && trail <= 0xBF:
		return true
	case 0xA4 <= lead && lead <= 0xC5, lead == 0xC6 && trail <= 0x7E:
		return true
	}
	return false
}

// Encoding is the decoder of a charset name (any label the WHATWG
// standard knows: "gbk", "GB2312", "big5-hkscs"...), nil for UTF-8 or a
// name it does not know, and the canonical name it decodes as.
func Encoding(name string) (encoding.Encoding, string) {
	e, err := htmlindex.Get(name)
	if err != nil {
		return nil, UTF8
	}
	canonical, err := htmlindex.Name(e)
	if err != nil || canonical == UTF8 {
		return nil, UTF8
	}
	switch canonical {
	case "gbk":
		// GB18030 decodes everything GBK does, and more: one decoder for both.
		return simplifiedchinese.GB18030, GB18030
	case Big5:
		return traditionalchinese.Big5, Big5
	}
	return e, canonical
}

// Decode converts b, in the named charset, to valid UTF-8. cut says b is
// only the beginning of the text: a character split at its end is dropped
// rather than shown broken. Bytes the charset cannot decode become U+FFFD.
func Decode(b []byte, name string, cut bool) string {
	enc, _ := Encoding(name)
	if enc != nil {
		if d, err := enc.NewDecoder().Bytes(b); err == nil {
			b = d
			if cut {
				// A character cut at the end decodes as one U+FFFD.
				b = bytes.TrimSuffix(b, []byte("\uFFFD"))
			}
		}
	}
	b = dropCutUTF8(b, cut)
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// dropCutUTF8 drops the invalid UTF-8 tail a cut leaves (at most the three
// leading bytes of a four-byte character).
func dropCutUTF8(b []byte, cut bool) []byte {
	for i := 0; cut && i < utf8.UTFMax-1 && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}
