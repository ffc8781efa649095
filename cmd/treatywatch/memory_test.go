package main

import (
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
		want      int64 // the limit in force afterwards
		wantErr   bool
	}{
		{flag: "", env: "", want: defaultMemoryLimit},
		{flag: "96MiB", env: "", want: 96 << 20},
		{flag: "96MiB", env: "200MiB", want: 96 << 20}, // the flag wins
		{flag: "", env: "off", want: before},           // the environment's, as the runtime read it
		{flag: "off", env: "", want: 1<<63 - 1},
		{flag: "lots", wantErr: true},
		{flag: "-5MiB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.flag+"/"+tt.env, func(t *testing.T) {
			debug.SetMemoryLimit(before)
			t.Setenv("GOMEMLIMIT", tt.env)
			_, err := setMemoryLimit(tt.flag)
			if (err != nil) != tt.wantErr {
				t.Fatalf("setMemoryLimit(%q) error = %v", tt.flag, err)
			}
			if tt.wantErr {
				return
			}
			if got := debug.SetMemoryLimit(-1); got != tt.want {
				t.Errorf("limit %d, want %d", got, tt.want)
			}
		})
	}
}
