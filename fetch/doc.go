// Package fetch defines what every fetcher produces and consumes: the Item
// a source yields, the Source that describes where to look, the Batch one
// fetch returns, and the HTTP plumbing (client, errors) shared by the
// feed, page and extract fetchers below it.
//
// Fetchers do network I/O and parsing only. They keep no state: HTTP
// validators come in through Fetch and go out in the Batch, and the
// caller (internal/pipeline) stores them.
package fetch
