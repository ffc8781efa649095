package store

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
)

// marshalLean is what encoding/json writes for the lean item of l and its
// result: the reference the direct writers are held to.
func marshalLean(t testing.TB, l Labeled) (item, result string, err error) {
	t.Helper()
	si := storedItem{Item: l.Item, Lean: true, TextSHA256: textHash(l.Item)}
	si.Summary, si.Content = "", ""
	si.Provenance = fetch.Provenance{Extracted: l.Item.Provenance.Extracted}
	ij, err := json.Marshal(si)
	if err != nil {
		return "", "", err
	}
	rj, err := json.Marshal(storedResult{Result: l.Result, Evidence: []storedMatch{}})
	return string(ij), string(rj), err
}

// filled returns a value of type T with every field set (strings to
// their field's name), so that a field added to fetch.Item or
// classify.Result and not written by the direct writers fails the test
// below. skip names fields left zero.
func filled[T any](skip ...string) T {
	var v T
	fill(reflect.ValueOf(&v).Elem(), skip)
	return v
}

func fill(v reflect.Value, skip []string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x-" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(0.25)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), skip)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), skip)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 9, 30, 0, 123456789, time.FixedZone("X", 3600))))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || contains(skip, f.Name) {
				continue
			}
			if f.Type.Kind() == reflect.String {
				v.Field(i).SetString("x-" + f.Name)
				continue
			}
			fill(v.Field(i), skip)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLeanJSONIsMarshal: the item_json and result_json encodeLabeled
// writes of an irrelevant item are byte for byte encoding/json's, on the
// direct path and on the ones it declines.
func TestLeanJSONIsMarshal(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	base := fetch.Item{SourceID: "s", Key: "k", URL: "https://example.org/a", Title: "Plain title", Summary: "Some text.",
		Lang: "en", Fetched: at, Published: at.Add(-time.Hour)}
	full := filled[fetch.Item]("Treaty", "Truncated")
	fullResult := filled[classify.Result]()
	fullResult.Relevant = false
	with := func(f func(*Labeled)) Labeled {
		l := Labeled{Item: base, Result: classify.Result{Rules: "pack-1"}}
		f(&l)
		return l
	}
	tests := []struct {
		name   string
		l      Labeled
		direct bool // written without encoding/json
	}{
		{"plain", with(func(*Labeled) {}), true},
		{"every field set", Labeled{Item: full, Result: fullResult}, true},
		{"no dates", with(func(l *Labeled) { l.Item.Published, l.Item.Fetched = time.Time{}, time.Time{} }), true},
		{"extracted", with(func(l *Labeled) { l.Item.Provenance = fetch.Provenance{Status: 200, Extracted: true, BodySHA256: "ab"} }), true},
		{"topics, none and empty", with(func(l *Labeled) { l.Result.Topics = []rules.Topic{} }), true},
		{"topics", with(func(l *Labeled) { l.Result.Topics = []rules.Topic{"ratification", "human-rights"} }), true},
		{"non-ASCII", with(func(l *Labeled) {
			l.Item.Author, l.Item.SourceName = "Ñandú Ковальчук", "Le Monde — 日本"
		}), true},
		{"scores", with(func(l *Labeled) { l.Result.Score = -3.75 }), true},
		{"tiny score", with(func(l *Labeled) { l.Result.Score = 1e-9 }), true},
		{"huge score", with(func(l *Labeled) { l.Result.Score = 2.5e22 }), true},
		{"score not a number", with(func(l *Labeled) { l.Result.Score = math.NaN() }), false},
		{"quotes and markup", with(func(l *Labeled) { l.Item.Author = `Jo "Q" <b>&` }), false},
		{"control character", with(func(l *Labeled) { l.Result.Actor = "a\tb" }), false},
		{"invalid UTF-8", with(func(l *Labeled) { l.Item.SourceActor = "a\xffb" }), false},
		{"line separator", with(func(l *Labeled) { l.Item.Lang = "a\u2028b" }), false},
		{"year past 9999", with(func(l *Labeled) { l.Item.Published = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), false},
		{"cut fields", with(func(l *Labeled) { l.Item.Truncated = []string{"content"} }), false},
		{"treaty event", with(func(l *Labeled) {
			l.Item.Treaty = &fetch.TreatyEvent{Participant: "Viet Nam", Action: "ratification", Date: at, Parties: 3}
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantItem, wantResult, wantErr := marshalLean(t, tt.l)
			ij, rj, err := encodeLabeled(tt.l)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("encodeLabeled error %v, encoding/json's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if string(ij) != wantItem || string(rj) != wantResult {
				t.Errorf("encodeLabeled wrote\n%s\n%s\nencoding/json writes\n%s\n%s", ij, rj, wantItem, wantResult)
			}
			_, okItem := appendLeanItem(nil, tt.l.Item, textHash(tt.l.Item))
			_, okResult := appendLeanResult(nil, tt.l.Result)
			if direct := okItem && okResult; direct != tt.direct {
				t.Errorf("written directly: %v, want %v", direct, tt.direct)
			}
		})
	}
}

// FuzzLeanJSON holds the direct writers to encoding/json on any strings
// and scores.
func FuzzLeanJSON(f *testing.F) {
	f.Add("Le Monde", "en", "Jo <b>", "pack-1", "actor", 0.5, int64(0))
	f.Add("a\xffb", "\u2028", "\x01", "", "", 1e-7, int64(1700000000))
	f.Fuzz(func(t *testing.T, name, lang, author, pack, actor string, score float64, published int64) {
		l := Labeled{
			Item: fetch.Item{SourceID: "s", Key: "k", SourceName: name, Lang: lang, Author: author,
				Fetched: time.Unix(published/2, 0).UTC()},
			Result: classify.Result{Score: score, Rules: pack, Actor: actor, Stance: classify.Stance(lang)},
		}
		if published%3 != 0 {
			l.Item.Published = time.Unix(published, published%1e9)
		}
		wantItem, wantResult, wantErr := marshalLean(t, l)
		ij, rj, err := encodeLabeled(l)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("encodeLabeled error %v, encoding/json's %v", err, wantErr)
		}
		if err == nil && (string(ij) != wantItem || string(rj) != wantResult) {
			t.Errorf("encodeLabeled wrote\n%s\n%s\nencoding/json writes\n%s\n%s", ij, rj, wantItem, wantResult)
		}
	})
}
