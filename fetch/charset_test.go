package fetch

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

func latin1(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.ISO8859_1.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeXML(t *testing.T) {
	const text = "Übereinkommen über Computerkriminalität, déjà vu"
	doc := func(decl string) string {
		return decl + "<rss><channel><title>" + text + "</title></channel></rss>"
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(`<?xml version="1.0" encoding="gb2312"?><rss><channel><title>网络犯罪公约</title></channel></rss>`))
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(doc(`<?xml version="1.0" encoding="UTF-16"?>`)))
	tests := []struct {
		name        string
		body        []byte
		contentType string
		override    string
		wantName    string
		want        string // a substring of the result
	}{
		{"utf-8 declared", []byte(doc(`<?xml version="1.0" encoding="utf-8"?>`)), "", "", "utf-8", text},
		{"latin1 declared in prolog", latin1(t, doc(`<?xml version="1.0" encoding="ISO-8859-1"?>`)), "", "", "windows-1252", text},
		{"latin1 in header, no prolog", latin1(t, doc("")), "application/rss+xml; charset=iso-8859-1", "", "windows-1252", text},
		{"header overrides prolog", latin1(t, doc(`<?xml version="1.0" encoding="utf-8"?>`)), "text/xml; charset=ISO-8859-1", "", "windows-1252", text},
		{"undeclared latin1 sniffed", latin1(t, doc("")), "application/rss+xml", "", "windows-1252", text},
		{"undeclared utf-8 sniffed", []byte(doc("")), "", "", "utf-8", text},
		{"prolog lies", []byte(doc(`<?xml version="1.0" encoding="ISO-8859-1"?>`)), "", "", "utf-8", text},
		{"header lies", []byte(doc("")), "text/xml; charset=windows-1252", "", "utf-8", text},
		{"override wins", latin1(t, doc(`<?xml version="1.0" encoding="utf-8"?>`)), "text/xml; charset=utf-8", "latin1", "windows-1252", text},
		{"utf-8 BOM", append([]byte("\xEF\xBB\xBF"), doc(`<?xml version="1.0" encoding="ISO-8859-1"?>`)...), "", "", "utf-8", text},
		{"utf-16 BOM", utf16, "", "", "utf-16le", text},
		{"gb2312", gbk, "", "", "gbk", "网络犯罪公约"},
		{"unknown label ignored", []byte(doc(`<?xml version="1.0" encoding="x-klingon"?>`)), "", "", "utf-8", text},
		{"utf-8 declared, a few bad bytes", []byte(doc(`<?xml version="1.0" encoding="utf-8"?>`) + "\xff"), "", "", "utf-8", text},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, name, err := DecodeXML(tc.body, tc.contentType, tc.override)
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.wantName {
				t.Errorf("read as %s, want %s", name, tc.wantName)
			}
			s := string(out)
			if !strings.Contains(s, tc.want) {
				t.Errorf("result %q lacks %q", s, tc.want)
			}
			if strings.Contains(s, "Ã") || strings.Contains(s, "\xEF\xBB\xBF") {
				t.Errorf("mojibake or BOM left: %q", s)
			}
			if strings.Contains(s, "encoding=") && !strings.Contains(s, `encoding="UTF-8"`) && !strings.Contains(s, `encoding="utf-8"`) {
				t.Errorf("prolog not rewritten: %q", s[:60])
			}
		})
	}
	if _, _, err := DecodeXML([]byte("<rss/>"), "", "no-such-charset"); err == nil || !strings.Contains(err.Error(), "charset setting") {
		t.Errorf("bad override: %v", err)
	}
}

func TestDecodeHTML(t *testing.T) {
	const text = "Convention des Nations unies contre la cybercriminalité"
	page := func(meta string) string {
		return "<!DOCTYPE html><html><head>" + meta + "<title>t</title></head><body><p>" + text + "</p></body></html>"
	}
	win1251, _ := charmap.Windows1251.NewEncoder().Bytes([]byte(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>Конвенция</body></html>`))
	tests := []struct {
		name, contentType, wantName, want string
		body                              []byte
	}{
		{"meta charset latin1", "", "windows-1252", text, latin1(t, page(`<meta charset="iso-8859-1">`))},
		{"header", "text/html; charset=iso-8859-1", "windows-1252", text, latin1(t, page(""))},
		{"http-equiv windows-1251", "text/html", "windows-1251", "Конвенция", win1251},
		{"meta lies", "", "utf-8", text, []byte(page(`<meta charset="iso-8859-1">`))},
		{"sniffed latin1", "text/html", "windows-1252", text, latin1(t, page(""))},
		{"sniffed utf-8", "text/html", "utf-8", text, []byte(page(""))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, name, err := DecodeHTML(tc.body, tc.contentType, "")
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.wantName || !bytes.Contains(out, []byte(tc.want)) {
				t.Errorf("read as %s: %q", name, out)
			}
		})
	}
}
