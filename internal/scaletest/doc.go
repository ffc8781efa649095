// Package scaletest holds the scale harness: a test, skipped unless it is
// asked for, that serves thousands of synthetic feeds from several
// loopback addresses and runs the real treatywatch binary over them,
// measuring what the process costs (peak RSS, CPU, the database's bytes
// per item, the daemon's idle RSS).
//
//	scripts/scale                          10,000 sources, 1,000 for the daemon
//	go test ./internal/scaletest -run TestScale -v -args -scale.sources 2000
//
// Each feed has -scale.items items whose text is taken from the shared
// corpus feeds (mostly news beside the treaty) with one item in
// -scale.relevant-every taken from the labelled treaty items, so a pass
// stores both lean irrelevant items and relevant ones with their text and
// evidence. The servers answer conditional requests with 304, so a
// second pass measures the all-304 case. PASS and FAIL lines compare the
// figures with their targets (first pass peak RSS <= 120 MiB and <= 1,200
// database bytes per item at 10,000 sources, the all-304 pass <= 5 % of
// the first's CPU).
//
// The daemon's idle resident set is sampled every -scale.idle-every for
// -scale.idle once its start-up pass has ended, and reported as min,
// median and max with the machine's load; the largest sample is checked
// against -scale.idle-target (60 MiB) in a PASS or FAIL line (a printed
// verdict, not a test failure: timings of a loaded machine are not
// asserted). -scale.daemons N starts N daemons one after the other, each
// on a new database; -scale.smaps prints the last sample's memory by
// mapping, and -scale.stderr the collector's and scavenger's trace lines
// (with GODEBUG=gctrace=1,scavtrace=1).
package scaletest
