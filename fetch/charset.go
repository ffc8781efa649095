package fetch

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
)

// Names of the two encodings the decoders fall back on.
const (
	charsetUTF8     = "utf-8"
	charsetFallback = "windows-1252" // what browsers read ISO-8859-1 as
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}

	// xmlDecl matches an XML declaration and captures its encoding value.
	xmlDecl     = regexp.MustCompile(`^\s*<\?xml\s[^>]*?\?>`)
	xmlEncoding = regexp.MustCompile(`encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']`)
	// metaCharset matches <meta charset=x> and the http-equiv form.
	metaCharset = regexp.MustCompile(`(?i)<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)`)
)

// DecodeXML returns body as UTF-8, with the name of the encoding it was
// read in. The encoding is chosen in this order: override (the source's
// charset setting), a byte order mark, the charset of contentType, the
// encoding of the XML declaration, else a sniff (valid UTF-8 is UTF-8,
// anything else windows-1252, the superset of ISO-8859-1).
//
// A declaration that lies is caught: bytes that are valid UTF-8 and hold
// multibyte sequences are read as UTF-8 even when the header or the
// prolog says ISO-8859-1 or another single-byte charset. The encoding of
// the XML declaration in the result is rewritten to UTF-8, so an XML
// parser does not decode the text a second time.
func DecodeXML(body []byte, contentType, override string) ([]byte, string, error) {
	declared := ""
	if m := xmlDecl.Find(head(body, 1024)); m != nil {
		if e := xmlEncoding.FindSubmatch(m); e != nil {
			declared = string(e[1])
		}
	}
	out, name, err := decode(body, contentType, override, declared)
	if err != nil {
		return nil, "", err
	}
	return rewriteXMLDecl(out), name, nil
}

// DecodeHTML returns body as UTF-8, with the name of the encoding it was
// read in: override, byte order mark, the charset of contentType, a
// <meta charset> in the first 4 KiB, else a sniff. Lying single-byte
// declarations are caught as in DecodeXML. The meta element is left as
// it is: HTML parsers in Go read their input as UTF-8 anyway.
func DecodeHTML(body []byte, contentType, override string) ([]byte, string, error) {
	declared := ""
	if m := metaCharset.FindSubmatch(head(body, 4096)); m != nil {
		declared = string(m[1])
	}
	return decode(body, contentType, override, declared)
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// decode picks the encoding and converts body to UTF-8.
func decode(body []byte, contentType, override, declared string) ([]byte, string, error) {
	if override != "" {
		enc, name := charset.Lookup(override)
		if enc == nil {
			return nil, "", fmt.Errorf("unknown charset %q in the source's charset setting", override)
		}
		return convert(body, enc, name)
	}
	switch {
	case bytes.HasPrefix(body, bomUTF8):
		return toValidUTF8(body[len(bomUTF8):]), charsetUTF8, nil
	case bytes.HasPrefix(body, bomUTF16LE):
		return convert(body, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le")
	case bytes.HasPrefix(body, bomUTF16BE):
		return convert(body, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be")
	case bytes.HasPrefix(body, []byte{'<', 0, '?', 0}):
		return convert(body, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le")
	case bytes.HasPrefix(body, []byte{0, '<', 0, '?'}):
		return convert(body, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be")
	}
	for _, label := range []string{headerCharset(contentType), declared} {
		if label == "" {
			continue
		}
		enc, name := charset.Lookup(label)
		if enc == nil {
			continue // an unknown label is no evidence; try the next one
		}
		if name == charsetUTF8 {
			return utf8OrFallback(body)
		}
		if singleByte(name) && utf8.Valid(body) && hasMultibyte(body) {
			// The declaration lies: single-byte text is almost never
			// valid UTF-8 with multibyte sequences in it.
			return body, charsetUTF8, nil
		}
		return convert(body, enc, name)
	}
	return utf8OrFallback(body)
}

// utf8OrFallback reads body as UTF-8 when it is (mostly) UTF-8, else as
// windows-1252.
func utf8OrFallback(body []byte) ([]byte, string, error) {
	if utf8.Valid(body) {
		return body, charsetUTF8, nil
	}
	if good, bad := highBytes(body); bad > good {
		enc, name := charset.Lookup(charsetFallback)
		return convert(body, enc, name)
	}
	// UTF-8 with a few broken bytes: keep the text, mark the damage.
	return toValidUTF8(body), charsetUTF8, nil
}

// highBytes counts the non-ASCII bytes of b that are part of valid UTF-8
// sequences (good) and those that are not (bad). Single-byte text has a
// few accidental valid pairs at most.
func highBytes(b []byte) (good, bad int) {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			bad++
			i++
			continue
		}
		good += size
		i += size
	}
	return good, bad
}

func toValidUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

func convert(body []byte, enc encoding.Encoding, name string) ([]byte, string, error) {
	if name == charsetUTF8 {
		return toValidUTF8(body), name, nil
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, "", fmt.Errorf("decode %s: %w", name, err)
	}
	return out, name, nil
}

func headerCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(params["charset"])
}

// singleByte reports whether the WHATWG encoding name is a single-byte
// charset, the kind a lying declaration usually names.
func singleByte(name string) bool {
	for _, p := range []string{"iso-8859-", "windows-125", "koi8-", "macintosh", "ibm866", "x-mac-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// hasMultibyte reports whether b holds at least one valid multibyte UTF-8
// sequence.
func hasMultibyte(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			return true
		}
		i++
	}
	return false
}

// rewriteXMLDecl makes the XML declaration of UTF-8 text say so.
func rewriteXMLDecl(b []byte) []byte {
	loc := xmlDecl.FindIndex(head(b, 1024))
	if loc == nil {
		return b
	}
	decl := b[loc[0]:loc[1]]
	e := xmlEncoding.FindSubmatchIndex(decl)
	if e == nil || strings.EqualFold(string(decl[e[2]:e[3]]), "utf-8") {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:loc[0]+e[2]]...)
	out = append(out, "UTF-8"...)
	out = append(out, b[loc[0]+e[3]:]...)
	return out
}
