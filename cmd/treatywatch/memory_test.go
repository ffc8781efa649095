package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// TestMain leaves the test process (and the daemons its tests start)
// without the default soft memory limit: the tests run many commands in
// one process, whose heap is not a command's. Started as the benchmarks'
// feed server, the binary serves the corpus instead.
func TestMain(m *testing.M) {
	corpustest.ServeIfChild()
	os.Setenv("GOMEMLIMIT", "off")
	os.Exit(m.Run())
}

func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	tests := []struct {
		flag, env string
		inForce   int64 // the runtime's limit at start (from GOMEMLIMIT)
		want      int64 // the limit in force afterwards
		wantRet   int64 // what setMemoryLimit returns: 0 for none
		wantErr   bool
	}{
		{flag: "", env: "", inForce: math.MaxInt64, want: defaultMemoryLimit, wantRet: defaultMemoryLimit},
		{flag: "96MiB", env: "", inForce: math.MaxInt64, want: 96 << 20, wantRet: 96 << 20},
		{flag: "96MiB", env: "200MiB", inForce: 200 << 20, want: 96 << 20, wantRet: 96 << 20}, // the flag wins
		{flag: "", env: "200MiB", inForce: 200 << 20, want: 200 << 20, wantRet: 200 << 20},    // the environment's, as the runtime read it
		{flag: "", env: "off", inForce: math.MaxInt64, want: math.MaxInt64, wantRet: 0},
		{flag: "off", env: "", inForce: defaultMemoryLimit, want: math.MaxInt64, wantRet: 0},
		{flag: "lots", wantErr: true},
		{flag: "-5MiB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.flag+"/"+tt.env, func(t *testing.T) {
			debug.SetMemoryLimit(tt.inForce)
			t.Setenv("GOMEMLIMIT", tt.env)
			got, err := setMemoryLimit(tt.flag)
			if (err != nil) != tt.wantErr {
				t.Fatalf("setMemoryLimit(%q) error = %v", tt.flag, err)
			}
			if tt.wantErr {
				return
			}
			if got != tt.wantRet {
				t.Errorf("setMemoryLimit(%q) with GOMEMLIMIT=%q = %d, want %d", tt.flag, tt.env, got, tt.wantRet)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.want {
				t.Errorf("limit %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSetBatchGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	tests := []struct {
		name  string
		limit int64
		gogc  string
		want  bool
	}{
		{name: "default limit", limit: defaultMemoryLimit, want: true},
		{name: "a limit from the flag", limit: 96 << 20, want: true},
		{name: "limit off", limit: 0, want: false},
		{name: "GOGC set", limit: defaultMemoryLimit, gogc: "150", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			t.Setenv("GOGC", tt.gogc)
			if got := setBatchGC(tt.limit); got != tt.want {
				t.Fatalf("setBatchGC(%d) with GOGC=%q = %v, want %v", tt.limit, tt.gogc, got, tt.want)
			}
			want := 100
			if tt.want {
				want = batchGCPercent
			}
			if got := debug.SetGCPercent(100); got != want {
				t.Errorf("GOGC %d, want %d", got, want)
			}
		})
	}
}
