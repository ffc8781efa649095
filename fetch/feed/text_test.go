package feed

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/treatywatch/treatywatch/fetch/normalize"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// tokenizerText is plainText written over x/net/html's tokenizer: the
// reference plainText must agree with.
func tokenizerText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			tt := z.Token()
			a := tt.DataAtom
			switch {
			case a == atom.Script || a == atom.Style || a == atom.Template:
				if tt.Type == html.StartTagToken {
					skip++
				} else if tt.Type == html.EndTagToken && skip > 0 {
					skip--
				}
			case skip == 0 && blockTag(a):
				b.WriteByte(' ')
			}
		}
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "  Hello,\n\tworld  ", "Hello, world"},
		{"already collapsed", "Hello world", "Hello world"},
		{"no-break and ideographic spaces", "a\u00a0\u00a0b\u3000c", "a b c"},
		{"entities only", "Fish &amp; chips&nbsp;&#8212; &lt;b&gt;", "Fish & chips \u2014 <b>"},
		{"blocks separate words", "<p>one</p><p>two</p>three<br/>four", "one two three four"},
		{"inline tags do not", "un<b>break</b>able <a href=\"x\">link</a>", "unbreakable link"},
		{"script and style skipped", "a<script>var x = '<p>no</p>';</script>b<style>p{}</style>c", "abc"},
		{"script end tag case", "a<SCRIPT>x</Script >b", "ab"},
		{"template nests", "a<template><p>x</p><template>y</template>z</template>b", "ab"},
		{"comment", "a<!-- <p>hidden</p> -->b", "ab"},
		{"doctype and pi", "<!DOCTYPE html><?xml version=\"1.0\"?>text", "text"},
		{"quoted >", `<img alt="a > b" src=x>after`, "after"},
		{"not a tag", "1 < 2 and 3<4, a <- b", "1 < 2 and 3<4, a <- b"},
		{"lone end", "a</>b", "ab"},
		{"unclosed tag", "text <a href=", "text"},
		{"unclosed comment", "text <!-- rest", "text"},
		{"entity in text between tags", "<p>AT&amp;T</p>", "AT&T"},
		{"cyrillic", "<p>Конвенция  ООН</p>", "Конвенция ООН"},
		{"empty", "", ""},
	}
	tests = append(tests, struct{ name, in, want string }{"self-closed iframe", "<p>a</p><iframe src='v' /></p>b", "a b"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainText(tt.in); got != tt.want {
				t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if ref := tokenizerText(tt.in); ref != tt.want && !rawTextElement.MatchString(tt.in) {
				t.Errorf("tokenizer reference gives %q, want %q", ref, tt.want)
			}
		})
	}
}

var rawTextElement = regexp.MustCompile(`(?i)<(iframe|textarea|title|xmp|noembed|noframes|noscript|plaintext)\b`)

// TestPlainTextCorpus checks plainText against the tokenizer on every
// title, description and content in the corpus feeds.
func TestPlainTextCorpus(t *testing.T) {
	var fields, differ int
	for _, f := range corpustest.Feeds(t) {
		body, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		if err != nil {
			continue
		}
		for _, it := range parsed.Items {
			for _, s := range []string{it.Title, it.Description, it.Content} {
				if rawTextElement.MatchString(s) {
					// The tokenizer reads these as raw text up to their
					// end tag, and a self-closed <iframe/> has none: it
					// returns the markup after it as text.
					continue
				}
				fields++
				if got, want := plainText(s), tokenizerText(s); got != want {
					differ++
					if differ <= 5 {
						t.Errorf("%s: plainText differs from the tokenizer\n got: %.300q\nwant: %.300q", f.Name, got, want)
					}
				}
			}
		}
	}
	if fields < 1000 {
		t.Fatalf("only %d text fields in the corpus feeds", fields)
	}
	if differ > 0 {
		t.Errorf("%d of %d fields differ", differ, fields)
	}
}

// FuzzText checks that text decodes entities as html.UnescapeString does.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		"Fish &amp; chips&nbsp;&#8212; &lt;b&gt; &quot;q&quot; &apos;",
		"&#x41;&#X1F600;&#65&#0;&#128;&#x9f;&#xD800;&#1114112;&#99999999;&#;&#x;&",
		"&ampx; &notit; &notin; &AMP; &Amp; &amp &lt &NotEqualTilde; &acE; a&b &&amp;",
		"a &#32; b &#x3000; c &#160;d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var w normalize.Spacer
		w.Words("x ") // a used buffer: text appends
		text(&w, s)
		want := normalize.Collapse("x " + html.UnescapeString(s))
		if got := w.String(); got != want {
			t.Fatalf("text(%q) = %q, want %q", s, got, want)
		}
	})
}
