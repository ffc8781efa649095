package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// HashPrefix starts the keys of items that have neither GUID nor link.
const HashPrefix = "sha256:"

// Key is an item's identity within its source: its GUID, in canonical
// form when the GUID is a web link (publishers' permalink GUIDs, so the
// same article listed by a feed, a page and a sitemap gets one key),
// else its link in canonical form, else HashPrefix and the SHA-256 of
// title and summary.
func Key(guid, link, title, summary string) string {
	if g := strings.TrimSpace(guid); g != "" {
		if u, ok := parse(g, nil); ok { // parsed once: WebLink, then Canonical
			return canonical(u)
		}
		return g
	}
	if link != "" {
		if u, ok := parse(link, nil); ok {
			return canonical(u)
		}
		return strings.TrimSpace(link)
	}
	return ContentKey(title, summary)
}

// ContentKey is the key of an item known only by its text.
func ContentKey(title, summary string) string {
	sum := sha256.Sum256([]byte(title + "\x00" + summary))
	return HashPrefix + hex.EncodeToString(sum[:])
}

// Distinct tells apart an item whose key an earlier item of the same
// document took (a feed that repeats a GUID), stably: the key with a
// short hash of link, title and summary.
func Distinct(key, link, title, summary string) string {
	return key + "#" + shortHash(link+"\n"+title+"\n"+summary)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
