package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Stored is what Rekey needs to know of a stored item besides its key.
type Stored struct {
	URL, Title, Summary string
}

// Rekey returns the key Key gives today for an item stored under key by
// an earlier version, and whether it differs. Earlier versions kept a
// feed's GUID and link as they came (fragment, default port, some click
// ids included), hashed a feed item without either as hex(SHA-256 of
// title "\n" summary), and told repeated keys apart with a "#" and a
// short hash. Keys in none of these forms (a treaty event, a content
// hash of today's form) are left alone, as is an old content hash that
// no longer matches the stored title and summary (a field cut to its
// cap since): nothing would be gained by guessing.
func Rekey(key string, it Stored) (string, bool) {
	base, suffix := key, ""
	if i := strings.LastIndexByte(key, '#'); i > 0 && len(key)-i-1 == 12 &&
		key[i+1:] == shortHash(it.URL+"\n"+it.Title+"\n"+it.Summary) {
		base, suffix = key[:i], key[i:]
	}
	next := base
	switch {
	case WebLink(base):
		next = Canonical(base)
	case isHex64(base):
		sum := sha256.Sum256([]byte(it.Title + "\n" + it.Summary))
		if hex.EncodeToString(sum[:]) == base {
			next = ContentKey(it.Title, it.Summary)
		}
	}
	next += suffix
	return next, next != key
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
