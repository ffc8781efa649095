package extract

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// decodeHTML returns body as UTF-8. override (the source's configured
// charset) wins; then bytes that are valid UTF-8 and carry multibyte
// sequences are taken as UTF-8 whatever the page declares, since a
// declaration of ISO-8859-1 over UTF-8 bytes is a common lie and the
// reverse cannot happen by accident; then the Content-Type header, BOM and
// <meta> declaration decide, as the HTML standard's sniffing does.
func decodeHTML(body []byte, contentType, override string) ([]byte, error) {
	var enc encoding.Encoding
	if override != "" {
		e, err := htmlindex.Get(override)
		if err != nil {
			return nil, fmt.Errorf("unknown charset %q: %w", override, err)
		}
		enc = e
	} else {
		if b, ok := bytes.CutPrefix(body, []byte("\xef\xbb\xbf")); ok {
			return b, nil
		}
		if utf8.Valid(body) && hasMultibyte(body) {
			return body, nil
		}
		enc, _, _ = charset.DetermineEncoding(body, contentType)
	}
	if enc == encoding.Nop || enc == nil {
		return body, nil
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, fmt.Errorf("decode charset: %w", err)
	}
	return out, nil
}

func hasMultibyte(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}
