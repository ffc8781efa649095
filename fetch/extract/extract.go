package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/redact"
)

// Focus trades precision against recall.
type Focus string

// Extraction focuses.
const (
	Balanced  Focus = ""          // the default: best F1 on the benchmark
	Precision Focus = "precision" // less boilerplate, may miss paragraphs
	Recall    Focus = "recall"    // more text, more boilerplate
)

// Options tune the extractor. The zero value is the tuned default.
type Options struct {
	// Fallback also runs the readability and DOM Distiller extractors on
	// every page and takes their text when it looks better. On the AEB
	// benchmark that costs about 1.5 times the CPU per page for a lower
	// F1 (0.963 against 0.965 without), so it is off by default.
	Fallback bool
	Focus    Focus
}

// Article is the main text of one fetched page.
type Article struct {
	Text       string
	Title      string
	FinalURL   string
	Provenance fetch.Provenance
}

// Extractor fetches article pages and extracts their main text. It is safe
// for concurrent use.
type Extractor struct {
	get  fetch.Getter
	opts Options
}

// New returns an Extractor that fetches through g.
func New(g fetch.Getter, opts Options) *Extractor {
	return &Extractor{get: g, opts: opts}
}

// ErrNoText is wrapped by the errors of pages from which no text came out.
var ErrNoText = errors.New("no main text found")

// Extract fetches rawURL with the source's HTTP settings and returns the
// page's main text. Errors are *fetch.Error: the Getter's as they came,
// and ErrParse when the page yields no text.
func (e *Extractor) Extract(ctx context.Context, src fetch.Source, rawURL string) (Article, error) {
	resp, err := e.get.Get(ctx, src, rawURL, fetch.Validators{})
	if err != nil {
		return Article{}, err
	}
	final := resp.FinalURL
	if final == "" {
		final = rawURL
	}
	prov := resp.Provenance()
	prov.FinalURL, prov.Extracted = redact.URL(final), true
	if resp.NotModified || len(resp.Body) == 0 {
		return Article{}, &fetch.Error{Kind: fetch.ErrParse, URL: final, Status: resp.Status, Err: fmt.Errorf("extract: empty body: %w", ErrNoText)}
	}
	text, title, err := e.extract(resp.Body, resp.Header.Get("Content-Type"), src.Charset, final)
	if err != nil {
		return Article{}, &fetch.Error{Kind: fetch.ErrParse, URL: final, Status: resp.Status, Err: err}
	}
	return Article{Text: text, Title: title, FinalURL: final, Provenance: prov}, nil
}

// FromHTML extracts the main text of an HTML page with the default
// options. The charset is taken from the page itself (BOM, <meta>, or the
// bytes when they are UTF-8); pageURL is the page's address, used to
// resolve links and to judge which blocks are navigation.
func FromHTML(body []byte, pageURL string) (string, error) {
	text, _, err := (&Extractor{}).extract(body, "", "", pageURL)
	return text, err
}

// extract decodes, parses and extracts one page.
func (e *Extractor) extract(body []byte, contentType, override, pageURL string) (text, title string, err error) {
	utf8Body, _, err := fetch.DecodeHTML(body, contentType, override)
	if err != nil {
		return "", "", fmt.Errorf("extract: %s: %w", pageURL, err)
	}
	// The libraries' own readers (go-shiori/dom) chain Unicode transforms
	// that fail on some pages ("short internal buffer"); x/net/html does
	// not, so parse here and hand over the tree.
	doc, err := html.Parse(bytes.NewReader(utf8Body))
	if err != nil {
		return "", "", fmt.Errorf("extract: parse %s: %w", pageURL, err)
	}
	opts := trafilatura.Options{
		EnableFallback: e.opts.Fallback,
		HtmlDateMode:   trafilatura.Disabled,
	}
	switch e.opts.Focus {
	case Precision:
		opts.Focus = trafilatura.FavorPrecision
	case Recall:
		opts.Focus = trafilatura.FavorRecall
	}
	if u, err := url.Parse(pageURL); err == nil && u.IsAbs() {
		opts.OriginalURL = u
	}
	res, err := extractSafely(doc, opts)
	if err != nil {
		return "", "", fmt.Errorf("extract: %s: %w", pageURL, err)
	}
	title = cleanText(res.Metadata.Title)
	text = cleanText(renderText(res.ContentNode))
	if text == "" {
		text = cleanText(res.ContentText)
	}
	text = dropLeadingTitle(text, title)
	if text == "" {
		return "", "", fmt.Errorf("extract: %s: %w", pageURL, ErrNoText)
	}
	return text, title, nil
}

// extractSafely runs the library and turns a panic inside it into an
// error, so one odd page cannot take down the daemon.
func extractSafely(doc *html.Node, opts trafilatura.Options) (res *trafilatura.ExtractResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("extractor panic: %v", r)
		}
	}()
	return trafilatura.ExtractDocument(doc, opts)
}

// cleanText drops invisible format characters (soft hyphens, zero-width
// spaces and joiners, byte-order marks) that split words for search and
// classification without being seen by readers.
func cleanText(s string) string {
	if !strings.ContainsFunc(s, isInvisible) {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if isInvisible(r) {
			return -1
		}
		return r
	}, s))
}

func isInvisible(r rune) bool {
	switch r {
	case '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

// Thin reports whether an item carries fewer than minWords words of text in
// its title, summary and content together, so that its article is worth
// fetching.
func Thin(it fetch.Item, minWords int) bool {
	n := 0
	for _, s := range []string{it.Title, it.Summary, it.Content} {
		n += countWords(s)
		if n >= minWords {
			return false
		}
	}
	return n < minWords
}

// countWords counts runs of letters and digits in s, skipping markup, and
// counts each Han, Hiragana or Katakana character as a word since those
// scripts do not separate words with spaces.
func countWords(s string) int {
	if strings.ContainsRune(s, '<') {
		s = stripTags(s)
	}
	n, in := 0, false
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			n++
			in = false
			continue
		}
		w := unicode.IsLetter(r) || unicode.IsNumber(r)
		if w && !in {
			n++
		}
		in = w
	}
	return n
}

// stripTags returns the text of an HTML fragment.
func stripTags(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte(' ')
		}
	}
}
