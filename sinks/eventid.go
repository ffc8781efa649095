package sinks

import (
	"crypto/sha256"
	"encoding/hex"
)

// EventID is the stable id of one item's delivery to one sink: the same
// item and sink always give the same id, across retries, restarts and
// re-fetches, so a receiver that keeps ids sees each result once.
func EventID(sourceID, itemKey, sink string) string {
	h := sha256.New()
	h.Write([]byte(sourceID))
	h.Write([]byte{0})
	h.Write([]byte(itemKey))
	h.Write([]byte{0})
	h.Write([]byte(sink))
	return hex.EncodeToString(h.Sum(nil))[:32]
}
