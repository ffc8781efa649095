// Package normalize is where an item's identity and text are made the
// same way for every fetcher: the feed and page fetchers, the sitemap
// reader and the backfill all call it.
//
//   - Link cleans a link for delivery: absolute, host in lower case,
//     Google redirect wrappers unwrapped, tracking parameters dropped;
//     the fragment is kept.
//   - Canonical is a link's identity: Link plus scheme in lower case,
//     default port and fragment dropped, an empty path written "/".
//   - Key is an item's key: the GUID (in canonical form when it is a web
//     address), else the canonical link, else "sha256:" and a hash of
//     title and summary.
//   - Collapse trims text and folds every run of white space into one
//     space.
//
// Rekey maps a key an earlier version stored to the key Key gives now,
// so the store can move existing items to the current rule without
// delivering them again.
package normalize
