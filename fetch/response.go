package fetch

import (
	"context"
	"net/http"
	"time"
)

// Response is a fetched HTTP response whose body was read whole (within
// the body cap) and decompressed.
type Response struct {
	Status int
	// FinalURL is the URL after redirects; relative links resolve against it.
	FinalURL string
	Header   http.Header
	Body     []byte
	// NotModified is true on a 304: Body is empty.
	NotModified bool
	// Next holds the validators of this response.
	Next Validators
	// RetryAfter is how long the server asked us to wait before fetching
	// again (Cache-Control max-age, Expires); zero when it said nothing.
	RetryAfter time.Duration
	FetchedAt  time.Time
}

// Getter performs a polite GET for a source: the source's headers, proxy
// and timeout, the per-host limit, the body cap, conditional validators.
// Errors are *Error. The shared *Client implements it.
type Getter interface {
	Get(ctx context.Context, src Source, url string, prev Validators) (*Response, error)
}
