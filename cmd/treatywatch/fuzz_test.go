package main

import (
	"bytes"
	"context"
	"testing"
)

// FuzzClassifyInput gives the labelled JSONL reader (classify --eval's
// input) arbitrary lines.
func FuzzClassifyInput(f *testing.F) {
	f.Add([]byte(`{"id":"a","title":"UN cybercrime convention signed","summary":"States sign in Hanoi.","labels":{"relevant":true,"topics":["ratification"],"stance":"neutral"}}` + "\n\n{\"id\":2}\n"))
	f.Add([]byte("{\n"))
	f.Add([]byte(`{"title":` + "\"\xff\xfe\"" + `}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readRecords(context.Background(), bytes.NewReader(data))
	})
}
