// Package archive finds where a source keeps its older items, for
// backfills: the pages of a paginated feed (WordPress "?paged=N"),
// sitemaps and sitemap indexes with their lastmod dates (plain or
// gzipped, Google News sitemap dates and titles included), and Google
// News RSS search URLs bounded by date operators.
//
// URL builders and parsers are pure functions; ReadSitemap does its I/O
// through a fetch.Getter, so the per-host limit, body cap and SSRF guard
// of the shared client apply to archives too.
package archive
