package store

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/fetch"
)

// Most items a pass stores are irrelevant, kept lean (storedItem): their
// item_json and result_json have a few plain fields, which encoding/json
// spends most of its time finding by reflection. appendLeanItem and
// appendLeanResult write those two documents directly, byte for byte
// what json.Marshal writes (TestLeanJSONIsMarshal holds them to it for
// every field of fetch.Item and classify.Result). They decline, and the
// caller marshals, whatever is rare or not written the same way cheaply:
// a treaty event, cut fields, a date outside years 0-9999, a score that
// is not a finite number, a string that needs escaping.

// appendLeanItem appends the item_json of the lean item it (text hash
// hash) to b, or reports false.
func appendLeanItem(b []byte, it fetch.Item, hash string) ([]byte, bool) {
	if it.Treaty != nil || len(it.Truncated) > 0 {
		return b, false
	}
	ok := true
	b = append(b, '{')
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	str := func(name, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		field(name)
		var good bool
		b, good = appendPlainJSONString(b, v)
		ok = ok && good
	}
	stamp := func(name string, t time.Time) {
		field(name)
		var good bool
		b, good = appendJSONTime(b, t)
		ok = ok && good
	}
	str("source_name", it.SourceName, true)
	str("source_actor", it.SourceActor, true)
	// A lean item keeps no summary or content (encodeLabeled).
	str("lang", it.Lang, true)
	str("author", it.Author, true)
	if !it.Published.IsZero() {
		stamp("published", it.Published)
	}
	stamp("fetched", it.Fetched)
	field("provenance")
	if it.Provenance.Extracted {
		b = append(b, `{"extracted":true}`...)
	} else {
		b = append(b, '{', '}')
	}
	field("lean")
	b = append(b, "true"...)
	str("text_sha256", hash, true)
	return append(b, '}'), ok
}

// appendLeanResult appends the result_json of the irrelevant result r to
// b, or reports false.
func appendLeanResult(b []byte, r classify.Result) ([]byte, bool) {
	if r.Relevant {
		return b, false
	}
	ok := true
	plain := func(v string) {
		var good bool
		b, good = appendPlainJSONString(b, v)
		ok = ok && good
	}
	b = append(b, `{"relevant":false,"score":`...)
	var good bool
	if b, good = appendJSONFloat(b, r.Score); !good {
		return b, false
	}
	b = append(b, `,"topics":`...)
	if r.Topics == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range r.Topics {
			if i > 0 {
				b = append(b, ',')
			}
			plain(string(t))
		}
		b = append(b, ']')
	}
	b = append(b, `,"stance":`...)
	plain(string(r.Stance))
	if r.Actor != "" {
		b = append(b, `,"actor":`...)
		plain(r.Actor)
	}
	if r.Lang != "" {
		b = append(b, `,"lang":`...)
		plain(r.Lang)
	}
	b = append(b, `,"rules":`...)
	plain(r.Rules)
	b = append(b, `,"evidence":[]}`...)
	return b, ok
}

// appendPlainJSONString appends s as a JSON string when it needs no
// escaping as encoding/json escapes (printable ASCII and valid UTF-8
// other than U+2028 and U+2029, without ", \, <, > or &), else reports
// false.
func appendPlainJSONString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return b, false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return b, false
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// appendJSONTime appends t as encoding/json writes a time.Time, or
// reports false for a year outside 0-9999 (which it refuses).
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendJSONFloat appends f as encoding/json writes a float64, or
// reports false for NaN and the infinities (which it refuses).
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
