// Package opml converts between the config's sources and OPML, the
// subscription lists feed readers exchange.
//
// Export writes sources as an OPML 2.0 document: feeds as type="rss"
// outlines, pages and treaty documents as type="link", with what OPML
// has no place for (id, kind, schedule, actor, page selectors, archive,
// active window) in attributes of the Namespace, so an import gives back
// the same sources. Parse reads OPML of any version, forgiving the
// entities and attribute spellings exporters write, and flattens nested
// categories; Import turns its entries into sources with unique ids,
// skipping what has no feed URL or is watched already, and WriteYAML
// prints them as a block to paste into the config.
package opml
