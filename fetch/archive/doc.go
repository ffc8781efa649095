// Package archive walks where a source keeps its older items, for
// backfills: the pages of a paginated feed (WordPress "?paged=N"),
// sitemaps and sitemap indexes with their lastmod dates (plain or
// gzipped, Google News sitemap dates and titles included), and Google
// News RSS searches bounded by date operators.
//
// Each archive is a Walker (Pages, Sitemaps, Search): a finite iterator
// whose Next yields one Doc (a fetch.Batch with what it read) at a time
// until Done. The archive policy lives here: the end of a paginated feed
// (an empty or missing page, a page that repeats the ones before, a page
// older than the window), search windows split while a search comes back
// full, sitemap children last changed before the window skipped.
//
// URL builders and parsers are pure functions; the walkers do their I/O
// through a fetch.Fetcher or fetch.Getter, so the per-host limit, body
// cap and SSRF guard of the shared client apply to archives too.
package archive
