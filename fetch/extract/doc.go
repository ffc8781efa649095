// Package extract fetches an article page and extracts its main text, for
// items whose feed or listing carries too little text to classify (see
// Thin).
//
// The page is decoded to UTF-8 (the source's override, else UTF-8 bytes
// whatever the page declares, else header, BOM or <meta>), parsed with
// golang.org/x/net/html, and the parsed tree is handed to go-trafilatura
// with its readability and DOM-distiller fallbacks: the libraries' own
// readers fail on some pages (see shared/docs/EXTRACTION.md §1c). The
// text keeps paragraph breaks; a leading repeat of the page title and
// invisible format characters (soft hyphens, zero-width spaces) are
// removed.
//
// Score and Scorer implement the metric of the Article Extraction
// Benchmark (4-gram shingles, macro-averaged precision and recall, F1
// from them); TestAEB runs it over the benchmark's 181 pages.
package extract
