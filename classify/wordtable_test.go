package classify

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWordTable: the table finds every word put in it, with its last id,
// and no other word, for words short (their own key) and long (hashed),
// across the table's growth.
func TestWordTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		n := 1 + rng.IntN(14)
		var b strings.Builder
		for range n {
			b.WriteByte("abcdeé\x00\xffxyz"[rng.IntN(12)])
		}
		return b.String()
	}
	var tab wordTable
	want := map[string]int32{}
	for i := range 5000 {
		w := word()
		tab.put(w, int32(i))
		want[w] = int32(i)
	}
	for w, id := range want {
		if got, ok := tab.get([]byte(w)); !ok || got != id {
			t.Fatalf("get(%q) = %d, %v; want %d", w, got, ok, id)
		}
	}
	for range 20000 {
		w := word() + word()[:1]
		id, in := want[w]
		if got, ok := tab.get([]byte(w)); ok != in || ok && got != id {
			t.Fatalf("get(%q) = %d, %v; want %d, %v", w, got, ok, id, in)
		}
	}
	if tab.n != len(want) {
		t.Fatalf("%d words in the table, want %d", tab.n, len(want))
	}
	var empty wordTable
	if _, ok := empty.get([]byte("x")); ok {
		t.Fatal("an empty table found a word")
	}
}

// TestTableKeyIgnoresCapacity: a short word has the same key whatever
// its slice holds past its end.
func TestTableKeyIgnoresCapacity(t *testing.T) {
	for _, w := range []string{"a", "ab", "abc", "abcdefg", "é", "\x00", "\xff\xff"} {
		want := tableKey([]byte(w))
		buf := append([]byte(w), "\xff\x01garbage"...)
		if got := tableKey(buf[:len(w)]); got != want {
			t.Errorf("tableKey(%q) with %q after it = %x, alone %x", w, buf[len(w):], got, want)
		}
	}
}
