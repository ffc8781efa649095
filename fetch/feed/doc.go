// Package feed fetches and reads RSS (0.9x, 1.0, 2.0), Atom and JSON Feed
// sources.
//
// A Fetcher does one conditional GET through a fetch.Getter (a 304 ends
// the run), then Parse turns the body into normalised fetch.Items: the
// body is decoded to UTF-8 (fetch.DecodeXML: header, BOM, prolog, sniff,
// lying declarations caught), parsed with gofeed, and each item gets an
// absolute link without tracking parameters, a date with its zone (never
// later than the fetch), plain-text title, summary and content, a stable
// Key (GUID, else canonical URL, else a hash of title and summary) and
// its provenance.
//
// Where gofeed alone fails, Parse recovers what a reader would: an Atom
// or RSS document wrapped in an (X)HTML page, a truncated XML document
// (the items before the cut), a JSON Feed that breaks the spec (tags as a
// string, raw control characters, truncation) and RSS-in-JSON. What it
// cannot read is a *fetch.Error of kind ErrParse that says why in words.
package feed
