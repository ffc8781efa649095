package fetch

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAll: a body is read whole whatever its announced size says,
// into a buffer of that size when it is right, and a read error is
// returned with what came before it.
func TestReadAll(t *testing.T) {
	body := strings.Repeat("feed bytes ", 1000)
	broken := errors.New("connection reset")
	tests := []struct {
		name    string
		r       io.Reader
		size    int64
		want    string
		wantErr error
		exact   bool // the buffer is the announced size (+1)
	}{
		{"announced size", strings.NewReader(body), int64(len(body)), body, nil, true},
		{"unknown size", strings.NewReader(body), -1, body, nil, false},
		{"shorter than announced", strings.NewReader(body[:10]), int64(len(body)), body[:10], nil, false},
		{"longer than announced", strings.NewReader(body), 100, body, nil, false},
		{"announced empty, has bytes", strings.NewReader(body), 0, body, nil, false},
		{"empty", strings.NewReader(""), 0, "", nil, false},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(body)), int64(len(body)), body, nil, true},
		{"error after some bytes", io.MultiReader(strings.NewReader(body[:50]), iotest.ErrReader(broken)), int64(len(body)), body[:50], broken, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(tc.r, tc.size)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, []byte(tc.want)) {
				t.Fatalf("read %d bytes, want %d", len(got), len(tc.want))
			}
			if tc.exact && cap(got) != len(tc.want)+1 {
				t.Errorf("buffer of %d bytes for a body of %d announced right", cap(got), len(tc.want))
			}
		})
	}
}
