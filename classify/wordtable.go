package classify

import "encoding/binary"

// wordTable is an open-addressing hash table from a word to its id, made
// for the one lookup per word of a text that the matcher does: no
// allocation, and most words cost one probe of a small array of keys. A
// word of up to 7 bytes is its own key (its bytes and its length), so
// finding it, or finding it is not there, reads nothing else; a longer
// word's key is a hash, and a key that matches is checked against the
// word itself.
type wordTable struct {
	// seen has a bit per 14 bits of the hash of the keys in the table:
	// most words that are not in it (most words of a text) are turned
	// down by 2 KB that stay in the cache, without a probe of keys
	seen  [1 << 14 / 64]uint64
	keys  []uint64 // 0 = empty
	ids   []int32
	words []string
	shift uint // 64 - log2(len(keys))
	mask  uint64
	n     int
}

const (
	hashMul = 0x9E3779B97F4A7C15
	// maxInline is the longest word that is its own key.
	maxInline = 7
)

// tableKey is the key of a word: the bytes and length of a short word,
// else a hash of it marked with length 0xff.
func tableKey(w []byte) uint64 {
	if len(w) <= maxInline {
		var k uint64
		if cap(w) >= 8 {
			// one load; the bytes past the word (within its slice's
			// capacity) are masked off
			k = binary.LittleEndian.Uint64(w[:8]) & (1<<(8*len(w)) - 1)
		} else {
			for i, c := range w {
				k |= uint64(c) << (8 * i)
			}
		}
		return k | uint64(len(w))<<56
	}
	h := uint64(len(w)) * hashMul
	for len(w) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(w)) * hashMul
		h ^= h >> 29
		w = w[8:]
	}
	var t uint64
	for i, c := range w {
		t |= uint64(c) << (8 * i)
	}
	h = (h ^ t) * hashMul
	return (h^h>>32)>>8 | 0xff<<56
}

func (t *wordTable) get(w []byte) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	k := tableKey(w)
	h := k * hashMul
	if b := h >> (64 - 14); t.seen[b>>6]&(1<<(b&63)) == 0 {
		return 0, false
	}
	for i := h >> t.shift; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case 0:
			return 0, false
		case k:
			if len(w) <= maxInline || t.words[i] == string(w) {
				return t.ids[i], true
			}
		}
	}
}

func (t *wordTable) put(w string, id int32) {
	if (t.n+1)*2 > len(t.keys) {
		oldKeys, oldIDs, oldWords := t.keys, t.ids, t.words
		size, shift := 64, uint(64-6)
		for size < (t.n+1)*2 {
			size *= 2
			shift--
		}
		t.keys, t.ids, t.words = make([]uint64, size), make([]int32, size), make([]string, size)
		t.mask, t.shift = uint64(size-1), shift
		t.n = 0
		for i, k := range oldKeys {
			if k != 0 {
				t.put(oldWords[i], oldIDs[i])
			}
		}
	}
	k := tableKey([]byte(w))
	h := k * hashMul
	b := h >> (64 - 14)
	t.seen[b>>6] |= 1 << (b & 63)
	for i := h >> t.shift; ; i = (i + 1) & t.mask {
		switch {
		case t.keys[i] == 0:
			t.keys[i], t.ids[i], t.words[i] = k, id, w
			t.n++
			return
		case t.keys[i] == k && t.words[i] == w:
			t.ids[i] = id
			return
		}
	}
}
