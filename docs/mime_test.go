package docs

import (
	"errors"
	"testing"
)

func TestDetectType(t *testing.T) {
	const (
		zipHead = "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"
		pngHead = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
		elfHead = "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		mzHead  = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
	)
	cases := []struct {
		name     string
		head     string
		filename string
		want     string
		wantErr  error
	}{
		{"utf-8 text as .txt", "hello, 世界\n", "notes.txt", "text/plain; charset=utf-8", nil},
		{"utf-8 text as .md", "# Title\n\nbody\n", "README.md", "text/markdown; charset=utf-8", nil},
		{"extension case does not matter", "# Title\n", "README.MD", "text/markdown; charset=utf-8", nil},
		{"utf-8 text as .markdown", "# Title\n", "x.markdown", "text/markdown; charset=utf-8", nil},
		{"utf-8 text as .csv", "a,b\n1,2\n", "data.csv", "text/csv; charset=utf-8", nil},
		{"json text as .json", `{"a": 1}`, "data.json", "application/json", nil},
		{"text with an unknown extension stays plain", "hello\n", "script.sh", "text/plain; charset=utf-8", nil},
		{"html", "<!DOCTYPE html><html><body>x</body></html>", "page.html", "text/html; charset=utf-8", nil},
		{"html content named .txt is still html", "<html><body>x</body></html>", "page.txt", "text/html; charset=utf-8", nil},
		{"pdf", "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "paper.pdf", "application/pdf", nil},
		{"pdf whatever its name", "%PDF-1.4\n", "paper.txt", "application/pdf", nil},
		{"png", pngHead, "image.png", "image/png", nil},
		{"zip as .docx", zipHead, "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", nil},
		{"zip as .xlsx", zipHead, "sheet.XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", nil},
		{"zip as .odt", zipHead, "letter.odt", "application/vnd.oasis.opendocument.text", nil},
		{"zip as .zip", zipHead, "archive.zip", "application/zip", nil},
		{"zip as .exe", zipHead, "setup.exe", "", ErrUnsupportedType},
		{"zip as .jar", zipHead, "app.jar", "", ErrUnsupportedType},
		{"zip without extension", zipHead, "archive", "", ErrUnsupportedType},
		{"elf executable", elfHead, "program", "", ErrUnsupportedType},
		{"elf executable named .txt", elfHead, "harmless.txt", "", ErrUnsupportedType},
		{"windows executable", mzHead, "setup.exe", "", ErrUnsupportedType},
		{"windows executable named .docx", mzHead, "report.docx", "", ErrUnsupportedType},
		{"text with LP at bytes 34-35 is text, not a font", "CREATE TABLE(7)     SQL Commands  LP\nNAME\n", "create_table.txt", "text/plain; charset=utf-8", nil},
		{"the same as .md", "CREATE TABLE(7)     SQL Commands  LP\nNAME\n", "create_table.md", "text/markdown; charset=utf-8", nil},
		{"an embedded OpenType font is still refused", "\x10\x02\x00\x00\xd0\x01\x00\x00\x02\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00LP\x00\x00", "font.eot", "", ErrUnsupportedType},
		{"xml is not on the allow-list", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`, "image.svg", "", ErrUnsupportedType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := detectType([]byte(tc.head), tc.filename)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("detectType(%q, %q) error = %v, want %v", tc.head, tc.filename, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("detectType(%q, %q) = %q, want %q", tc.head, tc.filename, got, tc.want)
			}
		})
	}
}

func TestIsText(t *testing.T) {
	cases := []struct {
		mime string
		want bool
	}{
		{"text/plain; charset=utf-8", true},
		{"text/html; charset=utf-8", true},
		{"text/markdown; charset=utf-8", true},
		{"application/json", true},
		{"application/pdf", false},
		{"image/png", false},
		{"application/zip", false},
	}
	for _, tc := range cases {
		t.Run(tc.mime, func(t *testing.T) {
			if got := isText(tc.mime); got != tc.want {
				t.Errorf("isText(%q) = %v, want %v", tc.mime, got, tc.want)
			}
		})
	}
}
