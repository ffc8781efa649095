// Package dashboard serves the analysts' web dashboard and its JSON API
// (/api/v1/) over a store: relevant items over time stacked by stance,
// who says what, the treaty's signatures and ratifications, a searchable
// item list with each label's evidence, source health, and corrections
// that analysts make to the machine labels.
//
// Pages are server-rendered html/template with charts drawn as SVG on the
// server (every mark a link with a <title>, every chart beside a table of
// its numbers); the one small script and the stylesheet are embedded.
// The package reads through Reader, a small interface the SQLite store
// implements; writing corrections needs a user from the config (basic
// auth or a bearer token, checked against PBKDF2 hashes) and passes
// net/http's cross-origin protection.
package dashboard
