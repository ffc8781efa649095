package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/cputime"
)

// BenchmarkCommitNewItems measures the commits of a first pass: 100
// sources of 25 new items each (one in 20 relevant, with topics) into a
// fresh SQLite store, one commit per source, from one worker or four.
func BenchmarkCommitNewItems(b *testing.B) {
	ctx := context.Background()
	at := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	text := strings.Repeat("Delegates met in Vienna to discuss the draft convention and its safeguards. ", 6)
	var commits []RunCommit
	for s := range 100 {
		src := fmt.Sprintf("src-%03d", s)
		c := RunCommit{SourceID: src, At: at, Listed: 25, Sinks: []string{"file"}}
		for i := range 25 {
			key := fmt.Sprintf("%s-item-%02d", src, i)
			rel := (s*25+i)%20 == 0
			l := Labeled{
				Item: fetch.Item{SourceID: src, Key: key, URL: "https://example.org/" + key, Title: "Title of " + key,
					Summary: text, Content: text + text, Published: at.Add(-time.Duration(i) * time.Hour), Lang: "en"},
				Result: classify.Result{Relevant: rel, Rules: "bench-1"},
			}
			if rel {
				l.Result.Topics = []rules.Topic{"ratification", "human-rights"}
				l.Result.Stance = classify.StanceCritical
			}
			c.Items = append(c.Items, l)
		}
		commits = append(commits, c)
	}
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			cpu := cputime.Start(b)
			for b.Loop() {
				b.StopTimer()
				cpu.Pause()
				s, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
				if err != nil {
					b.Fatal(err)
				}
				cpu.Resume()
				b.StartTimer()
				var wg sync.WaitGroup
				errs := make(chan error, workers)
				for w := range workers {
					wg.Go(func() {
						for i := w; i < len(commits); i += workers {
							if _, err := s.CommitRun(ctx, commits[i]); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu.Pause()
				s.Close()
				cpu.Resume()
				b.StartTimer()
			}
			cpu.Stop()
		})
	}
}
