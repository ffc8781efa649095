package fetch

import "time"

// Kind is what a source is, and so which fetcher reads it.
type Kind string

// Kinds of source.
const (
	KindFeed Kind = "feed" // RSS, Atom, RDF or JSON Feed
	KindPage Kind = "page" // a listing page without a feed, read with CSS selectors
	// KindTreaty is the UN Treaty Collection status document of a treaty:
	// its participant rows become signature and ratification events.
	KindTreaty Kind = "treaty"
)

// Source says where to look and how. It is built from the configuration.
type Source struct {
	ID   string
	Kind Kind
	URL  string
	// Name is what people call it ("EFF Deeplinks").
	Name string
	// Lang is the language the source publishes in, when known.
	Lang string
	// Actor is who speaks when the source publishes its own statements
	// ("Human Rights Watch"); empty for news outlets and aggregators.
	Actor string
	// Headers are sent with every request to this source (Cookie included).
	Headers map[string]string
	// Proxy is an http, https or socks5 URL; empty for a direct connection.
	Proxy string
	// Charset overrides whatever the response declares.
	Charset string
	// Timeout bounds one request; zero means the client's default.
	Timeout time.Duration
	// MaxBody caps a response body in bytes (as sent and decompressed);
	// zero means the client's default.
	MaxBody int64
	// Page holds the selectors of a page source.
	Page *PageSelectors
	// Archive describes how a backfill walks older items.
	Archive *Archive
}

// PageSelectors describe a listing page: one Item element per entry, and
// inside it the link, title, date and optional summary.
type PageSelectors struct {
	Item       string
	Link       string
	Title      string
	Date       string
	DateLayout string
	Summary    string
}

// Archive tells a backfill where older items are.
type Archive struct {
	// PageParam is the query parameter of a paginated feed ("paged" for
	// WordPress): page N is URL?PageParam=N.
	PageParam string
	MaxPages  int
	// Sitemap is the URL of a sitemap (or sitemap index) listing articles
	// with their lastmod dates.
	Sitemap string
	// Query is a news search query; date operators are added per window.
	Query string
}
