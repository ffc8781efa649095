// Package sinktest is a conformance suite for sinks.Sink implementations,
// in the manner of testing/slogtest. A sink's test builds a Harness (how
// to make the sink and read back what its receiver got) and calls Run:
//
//	func TestConformance(t *testing.T) {
//		sinktest.Run(t, sinktest.Harness{
//			New: func(t *testing.T) sinktest.Target {
//				path := filepath.Join(t.TempDir(), "out.jsonl")
//				s, err := file.New("archive", path, "jsonl")
//				...
//				return sinktest.Target{Sink: s, Received: readBack(path)}
//			},
//			Dedupes: true,
//		})
//	}
//
// Records returns test records whose fields are hard to carry intact
// (quotes, separators, line breaks, markup, other scripts, time zones).
package sinktest
