package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/treatywatch/treatywatch/internal/redact"
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

// Provenance records how the response was captured: final URL, status,
// validators, fetch time and, when there is a body, its SHA-256.
func (r *Response) Provenance() Provenance {
	p := Provenance{
		FinalURL:     redact.URL(r.FinalURL),
		Status:       r.Status,
		ETag:         r.Next.ETag,
		LastModified: r.Next.LastModified,
		FetchedAt:    r.FetchedAt,
	}
	if len(r.Body) > 0 {
		sum := sha256.Sum256(r.Body)
		p.BodySHA256 = hex.EncodeToString(sum[:])
	}
	return p
}
