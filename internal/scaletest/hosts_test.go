package scaletest

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkHostOrder runs `once` over 100 feeds on 4 hosts with the
// default politeness (one request at a time per host) and a 100ms
// interval between a host's requests, with the sources listed grouped by
// host and interleaved. With workers that take the next source whose
// host is free, the two orders cost the same: scripts/bench prints
// grouped / interleaved.
func BenchmarkHostOrder(b *testing.B) {
	news, treaty := texts(b)
	urls := serve(b, &feeds{news: news, treaty: treaty, items: 20, every: 20}, 4)
	bin := build(b)
	for _, order := range []struct {
		name    string
		grouped bool
	}{{"interleaved", false}, {"grouped", true}} {
		b.Run(order.name, func(b *testing.B) {
			dir := b.TempDir()
			cfg := config(b, dir, urls, 100, "@every 1h", politeness{perHost: 1, interval: "100ms"}, order.grouped)
			for b.Loop() {
				if _, ran, fresh := once(b, bin, cfg); ran != 100 || fresh != 2000 {
					b.Fatalf("pass ran %d sources with %d new items, want 100 and 2000", ran, fresh)
				}
				b.StopTimer()
				for _, f := range []string{"treatywatch.db", "treatywatch.db-wal", "treatywatch.db-shm", "items.jsonl"} {
					os.Remove(filepath.Join(dir, f))
				}
				b.StartTimer()
			}
		})
	}
}
