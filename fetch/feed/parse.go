package feed

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/fetch/normalize"
	"github.com/treatywatch/treatywatch/internal/redact"
)

// maxInflated caps a body that arrives gzip-compressed without saying so.
const maxInflated = 32 << 20

// Parse reads a feed body fetched from baseURL (the final URL, after
// redirects) at time fetched, and returns its items normalised for src,
// and the feed's RSS ttl (zero when it has none). contentType is the
// response's Content-Type; src.Charset, when set, overrides every charset
// declaration. Errors are *fetch.Error of kind ErrParse.
//
// Parse does no I/O. Each item's Provenance carries baseURL, the SHA-256
// of body and fetched; the caller adds the HTTP status and validators.
func Parse(body []byte, contentType, baseURL string, src fetch.Source, fetched time.Time) ([]fetch.Item, time.Duration, error) {
	sum := sha256.Sum256(body)
	prov := fetch.Provenance{FinalURL: redact.URL(baseURL), BodySHA256: hex.EncodeToString(sum[:]), FetchedAt: fetched}
	return parse(body, contentType, baseURL, src, fetched, prov)
}

// parse is Parse giving the items the provenance prov (Fetch has it from
// the response, with the body's hash: hashing the body again cost as
// much as a tenth of the parse).
func parse(body []byte, contentType, baseURL string, src fetch.Source, fetched time.Time, prov fetch.Provenance) ([]fetch.Item, time.Duration, error) {
	fail := func(err error) error {
		return &fetch.Error{Kind: fetch.ErrParse, URL: baseURL, Err: err}
	}
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		inflated, err := gunzip(body)
		if err != nil {
			return nil, 0, fail(err)
		}
		body = inflated
	}
	start := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")), " \t\r\n")
	if len(start) == 0 {
		return nil, 0, fail(errors.New("the response body is empty"))
	}

	var (
		f   *gofeed.Feed
		ttl time.Duration
		err error
	)
	if start[0] == '{' || start[0] == '[' {
		doc, _ := boundJSONStrings(start, maxTextRun)
		f, err = parseJSON(doc)
	} else {
		var doc []byte
		doc, _, err = fetch.DecodeXML(body, contentType, src.Charset)
		if err != nil {
			return nil, 0, fail(err)
		}
		doc, _ = boundText(doc, maxTextRun)
		f, err = parseXML(doc, baseURL)
		ttl = rssTTL(doc)
	}
	if err != nil {
		return nil, 0, fail(err)
	}
	base, _ := url.Parse(baseURL)
	return normalise(f, base, src, fetched, prov), ttl, nil
}

func gunzip(body []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the body looks gzip-compressed but is not valid gzip: %w", err)
	}
	// The trailer gives the inflated size (of the last member, modulo
	// 2^32): read into a buffer of that size instead of growing one,
	// trusting it no further than deflate's largest ratio and the cap.
	hint := min(int64(binary.LittleEndian.Uint32(body[len(body)-4:])), maxInflated+1, 1032*int64(len(body)))
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(zr, maxInflated+1)); err != nil {
		return nil, fmt.Errorf("the body looks gzip-compressed but is not valid gzip: %w", err)
	}
	out := buf.Bytes()
	if len(out) > maxInflated {
		return nil, fmt.Errorf("the gzip-compressed body inflates beyond %d MiB", maxInflated>>20)
	}
	return out, nil
}

// newParser returns a gofeed parser. One per call keeps Parse free of
// shared state.
func newParser() *gofeed.Parser {
	p := gofeed.NewParser()
	// Item images are not used: skip the scan of every item's HTML for
	// one (a full HTML parse per item).
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	return p
}

var (
	// feedRoot finds the root element of an RSS, RDF or Atom document,
	// wherever it is (inside an XHTML page, after a long comment).
	feedRoot = regexp.MustCompile(`<((?:[A-Za-z][\w.-]*:)?(?:rss|feed|RDF))[\s>]`)
	htmlMark = regexp.MustCompile(`(?i)<!doctype\s+html|<html[\s>]`)
	linkTag  = regexp.MustCompile(`(?i)<link\s[^>]*>`)
	attrRe   = regexp.MustCompile(`(?i)\b(rel|type|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
	ttlRe    = regexp.MustCompile(`<ttl>\s*(\d+)\s*</ttl>`)
)

// parseXML parses an RSS, RDF or Atom document already decoded to UTF-8.
func parseXML(doc []byte, baseURL string) (*gofeed.Feed, error) {
	f, err := newParser().Parse(bytes.NewReader(doc))
	if err == nil {
		return f, nil
	}
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		inner, ok := embeddedFeed(doc)
		if !ok {
			return nil, notAFeed(doc, baseURL)
		}
		doc = inner
		if f, err = newParser().Parse(bytes.NewReader(doc)); err == nil {
			return f, nil
		}
	}
	// A broken or truncated document: keep the items before the break.
	cut, ok := cutAfterLastItem(doc)
	if !ok {
		return nil, fmt.Errorf("the XML is broken or cut off before its first complete item (%v)", err)
	}
	f, err2 := newParser().Parse(bytes.NewReader(cut))
	if err2 != nil || len(f.Items) == 0 {
		return nil, fmt.Errorf("the XML is broken and no item could be recovered (%v)", err)
	}
	return f, nil
}

// embeddedFeed returns the feed element of a document that is not itself
// a feed, such as an Atom feed saved inside an XHTML page.
func embeddedFeed(doc []byte) ([]byte, bool) {
	m := feedRoot.FindSubmatchIndex(doc)
	if m == nil {
		return nil, false
	}
	name := string(doc[m[2]:m[3]])
	end := bytes.LastIndex(doc, []byte("</"+name+">"))
	if end < 0 {
		return doc[m[0]:], true // cut off: the caller repairs it
	}
	return doc[m[0] : end+len(name)+3], true
}

// notAFeed explains what the document is instead of a feed.
func notAFeed(doc []byte, baseURL string) error {
	if htmlMark.Match(head(doc, 2048)) {
		if alt := alternateFeed(doc, baseURL); alt != "" {
			return fmt.Errorf("not a feed: the document is an HTML page; it links to a feed at %s, use that URL", alt)
		}
		return errors.New("not a feed: the document is an HTML page; find the site's feed URL, or configure it as a page source")
	}
	return errors.New("not a feed: no RSS, Atom or JSON Feed root element found")
}

// alternateFeed returns the first <link rel=alternate> feed of an HTML page.
func alternateFeed(doc []byte, baseURL string) string {
	base, _ := url.Parse(baseURL)
	for _, tag := range linkTag.FindAll(head(doc, 64<<10), -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllSubmatch(tag, -1) {
			attrs[strings.ToLower(string(a[1]))] = string(a[2]) + string(a[3]) + string(a[4])
		}
		typ := strings.ToLower(attrs["type"])
		if strings.Contains(strings.ToLower(attrs["rel"]), "alternate") && attrs["href"] != "" &&
			(strings.Contains(typ, "rss") || strings.Contains(typ, "atom") || strings.Contains(typ, "feed+json")) {
			return normalize.Link(attrs["href"], base)
		}
	}
	return ""
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// cutAfterLastItem returns doc cut after its last complete item or entry,
// with the elements still open there closed, so a parser reads the items
// before a break (truncation, bad markup). ok is false when no item ended.
func cutAfterLastItem(doc []byte) ([]byte, bool) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var (
		stack, open []string
		cut         int64 = -1
	)
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, qname(t.Name))
		case xml.EndElement:
			name := qname(t.Name)
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i] == name {
					stack = stack[:i]
					break
				}
			}
			if t.Name.Local == "item" || t.Name.Local == "entry" {
				cut = d.InputOffset()
				open = append(open[:0], stack...)
			}
		}
	}
	if cut < 0 {
		return nil, false
	}
	out := make([]byte, 0, cut+int64(16*len(open)))
	out = append(out, doc[:cut]...)
	for i := len(open) - 1; i >= 0; i-- {
		out = append(out, "</"+open[i]+">"...)
	}
	return out, true
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// rssTTL reads the channel's <ttl> (minutes).
func rssTTL(doc []byte) time.Duration {
	channel := doc
	if i := bytes.Index(doc, []byte("<item")); i >= 0 {
		channel = doc[:i]
	}
	start := bytes.Index(channel, []byte("<ttl>")) // where the pattern's first match can start
	if start < 0 {
		return 0 // not a look at the whole of an Atom document with the pattern
	}
	m := ttlRe.FindSubmatch(channel[start:])
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n <= 0 || n > 7*24*60 {
		return 0
	}
	return time.Duration(n) * time.Minute
}
