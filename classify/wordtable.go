package classify

// wordTable is an open-addressing hash table from a word to its id, made
// for the one lookup per word of a text that the matcher does: no
// allocation, one probe most of the time.
type wordTable struct {
	slots []wslot
	mask  uint64
	n     int
}

type wslot struct {
	hash uint64
	word string
	id   int32 // id+1; 0 = empty
}

func fnv(w []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range w {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func (t *wordTable) get(w []byte) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	h := fnv(w)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.id == 0 {
			return 0, false
		}
		if s.hash == h && s.word == string(w) {
			return s.id - 1, true
		}
	}
}

func (t *wordTable) put(w string, id int32) {
	if (t.n+1)*2 > len(t.slots) {
		old := t.slots
		size := 64
		for size < (t.n+1)*4 {
			size *= 2
		}
		t.slots = make([]wslot, size)
		t.mask = uint64(size - 1)
		t.n = 0
		for _, s := range old {
			if s.id != 0 {
				t.put(s.word, s.id-1)
			}
		}
	}
	h := fnv([]byte(w))
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.id == 0 {
			*s = wslot{hash: h, word: w, id: id + 1}
			t.n++
			return
		}
		if s.hash == h && s.word == w {
			s.id = id + 1
			return
		}
	}
}
