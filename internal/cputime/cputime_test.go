package cputime

import (
	"testing"
	"time"
)

// burn spends at least d of this process's CPU time (not wall time: a
// busy machine makes it take longer, not count less).
func burn(t testing.TB, d time.Duration) {
	t.Helper()
	start := Used()
	deadline := time.Now().Add(time.Minute)
	x := 1
	for Used()-start < d {
		for i := range 100000 {
			x = x*31 + i
		}
		if time.Now().After(deadline) {
			t.Fatalf("spent a minute without using %v of CPU time", d)
		}
	}
	sink = x
}

var sink int

func TestMeterCountsOnlyWhileRunning(t *testing.T) {
	const unit = 20 * time.Millisecond
	m := Start(nil)
	burn(t, unit)
	m.Pause()
	m.Pause() // a second pause changes nothing
	burn(t, 5*unit)
	m.Resume()
	m.Resume() // nor does a second resume restart the count
	burn(t, unit)
	m.Pause()
	if m.total < 2*unit {
		t.Errorf("counted %v for two spells of %v", m.total, unit)
	}
	if m.total >= 5*unit {
		t.Errorf("counted %v: the %v burnt while paused was counted", m.total, 5*unit)
	}
}

func TestStopReportsPerOp(t *testing.T) {
	var n int
	r := testing.Benchmark(func(b *testing.B) {
		m := Start(b)
		for b.Loop() {
			burn(b, time.Millisecond)
		}
		m.Stop()
		n = b.N
	})
	got, ok := r.Extra["cpu-ns/op"]
	if !ok {
		t.Fatalf("no cpu-ns/op metric in %v", r.Extra)
	}
	if got < float64(time.Millisecond) {
		t.Errorf("cpu-ns/op = %.0f for ops that each burn at least 1ms (N = %d)", got, n)
	}
}
