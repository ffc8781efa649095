// Package corpustest gives tests access to the shared test corpus
// (../shared/corpus beside the repository, see its README.md) without
// copying it into the project.
//
//   - Dir finds the corpus by walking up from the working directory to a
//     folder that holds shared/corpus; the test is skipped when there is
//     none.
//   - Feeds reads feeds/MANIFEST.tsv: one FeedFile per feed, with what
//     its bytes really are (Charset), what the document declares
//     (Declared) and whether that declaration lies.
//   - NewFeedServer serves every feed under /feeds/<file name> from an
//     httptest server on 127.0.0.1, the way a well-behaved web server
//     would: a strong ETag (a hash of the bytes) and a Last-Modified,
//     304 on a matching If-None-Match or If-Modified-Since, and a
//     Content-Type whose charset is the real encoding of the bytes when
//     the document declares it honestly. Feeds that declare nothing, and
//     the ones whose declaration lies, are sent without a charset, so
//     that sniffing and lie detection are exercised. The .gz feed is
//     served raw, as application/gzip. The server counts requests and
//     in-flight requests per Host, so politeness can be checked.
//
// It is a test helper: it calls t.Fatal on errors and registers cleanups.
package corpustest
