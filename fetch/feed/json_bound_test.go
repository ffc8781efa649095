package feed

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/fetch"
)

// A JSON Feed with a huge title is cut before encoding/json decodes it:
// the title arrives bounded and parsing allocates a small multiple of the
// body, not of the title decoded several times.
func TestJSONFeedHugeTitleIsBounded(t *testing.T) {
	huge := strings.Repeat("convention ", 9<<20/11)
	body := []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[` +
		`{"id":"1","url":"https://example.org/a","title":"` + huge + `","content_text":"x"},` +
		`{"id":"2","url":"https://example.org/b","title":"short","content_text":"y"}]}`)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	items, _, err := Parse(body, "application/feed+json", "https://example.org/feed.json",
		fetch.Source{ID: "s"}, time.Unix(0, 0))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(items) != 2 {
		t.Fatalf("got %d items, want 2", len(items))
	}
	if n := len(items[0].Title); n > maxTextRun {
		t.Errorf("title is %d bytes, want at most %d", n, maxTextRun)
	}
	if items[1].Title != "short" {
		t.Errorf("second title = %q, want %q", items[1].Title, "short")
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("body %d MB, allocated %d MB while parsing", len(body)>>20, alloc>>20)
	if limit := uint64(4 * len(body)); alloc > limit {
		t.Errorf("parsing allocated %d MB, want under %d MB (4x the body)", alloc>>20, limit>>20)
	}
}
