package archive

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/treatywatch/treatywatch/fetch"
)

// PageURL returns the URL of page n of a paginated source: page 1 is the
// source's own URL, page n > 1 is that URL with the archive's page
// parameter set to n ("?paged=2" for WordPress). The rest of the query
// is kept in its order; a page parameter already present is replaced.
// It returns "" for n > 1 when the source has no page parameter, or when
// its URL does not parse.
func PageURL(src fetch.Source, n int) string {
	if n <= 1 {
		return src.URL
	}
	if src.Archive == nil || src.Archive.PageParam == "" {
		return ""
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		return ""
	}
	param := src.Archive.PageParam
	pair := url.QueryEscape(param) + "=" + strconv.Itoa(n)
	var parts []string
	replaced := false
	if u.RawQuery != "" {
		for _, p := range strings.Split(u.RawQuery, "&") {
			k, _, _ := strings.Cut(p, "=")
			if key, err := url.QueryUnescape(k); err == nil && key == param {
				if !replaced {
					parts = append(parts, pair)
					replaced = true
				}
				continue
			}
			parts = append(parts, p)
		}
	}
	if !replaced {
		parts = append(parts, pair)
	}
	u.RawQuery = strings.Join(parts, "&")
	u.ForceQuery = false
	return u.String()
}
