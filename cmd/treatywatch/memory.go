package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/treatywatch/treatywatch/config"
)

// defaultMemoryLimit is the soft limit of the Go runtime's memory when
// neither --memory-limit nor GOMEMLIMIT says otherwise. A pass over
// 10,000 sources keeps about 25 MB live; without a limit the heap grows
// to several times that before the collector runs, and the process keeps
// the pages.
const defaultMemoryLimit = 64 << 20

// setMemoryLimit applies --memory-limit: a size ("96MiB") or "off". An
// empty flag leaves a GOMEMLIMIT from the environment in force, else
// sets the default. It returns the limit in force (0: none).
func setMemoryLimit(flagValue string) (int64, error) {
	switch v := strings.TrimSpace(flagValue); {
	case strings.EqualFold(v, "off"):
		debug.SetMemoryLimit(math.MaxInt64)
		return 0, nil
	case v != "":
		n, err := config.ParseSize(v)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--memory-limit %q: want a size such as 96MiB, or off", flagValue)
		}
		debug.SetMemoryLimit(int64(n))
		return int64(n), nil
	case os.Getenv("GOMEMLIMIT") != "":
		// The runtime read it at start; "off" reads as the largest limit.
		if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
			return limit, nil
		}
		return 0, nil
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	return defaultMemoryLimit, nil
}

// batchGCPercent is the collector's target (GOGC) for the commands that
// run a bounded batch of sources, once and backfill: the heap may grow to
// nine times what is live before a collection, where Go's default lets
// it double. A pass keeps little live (about 6 MB over the 107 feeds of
// a typical configuration, 25 MB at 10,000 sources) and allocates a lot
// (about 180 MB over those 107 feeds), so at Go's default it collected
// every few megabytes, some fifteen times a pass, each collection
// slowing the work around it (write barriers, sweeping, fresh pages).
// At 800 a pass collects a few times, for about a tenth less CPU. The
// soft memory limit still bounds the heap: past it the collector runs as
// often as it must, which is what a large pass does. The daemon keeps
// Go's default, for a small footprint between its passes.
const batchGCPercent = 800

// setBatchGC applies batchGCPercent when a soft memory limit is in force
// (limit, as setMemoryLimit returned it) and GOGC is not set in the
// environment (then the runtime read it, and it wins). It reports whether
// it changed the target.
func setBatchGC(limit int64) bool {
	if limit <= 0 || os.Getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(batchGCPercent)
	return true
}
