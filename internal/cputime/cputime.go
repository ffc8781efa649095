package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Used returns the user and system CPU time the process has used so far.
func Used() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Meter reports a benchmark's CPU time per operation as "cpu-ns/op".
// Call Start after set-up and Stop after the loop; time spent between
// b.StopTimer and b.StartTimer is still counted, so keep set-up out of
// the loop or measure it away with Pause and Resume.
type Meter struct {
	b       *testing.B
	started time.Duration
	total   time.Duration
	running bool
}

// Start starts the meter.
func Start(b *testing.B) *Meter {
	return &Meter{b: b, started: Used(), running: true}
}

// Pause stops counting (with b.StopTimer).
func (m *Meter) Pause() {
	if m.running {
		m.total += Used() - m.started
		m.running = false
	}
}

// Resume counts again (with b.StartTimer).
func (m *Meter) Resume() {
	if !m.running {
		m.started = Used()
		m.running = true
	}
}

// Stop reports the CPU time per operation.
func (m *Meter) Stop() {
	m.Pause()
	if m.b.N > 0 {
		m.b.ReportMetric(float64(m.total.Nanoseconds())/float64(m.b.N), "cpu-ns/op")
	}
}
