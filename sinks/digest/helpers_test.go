package digest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/classify"
	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/sinks"
)

// fileState is a sinks.State that persists every key as a file in dir,
// written atomically, so a new Sink over the same dir sees what an
// earlier one stored: a process restart.
type fileState struct {
	dir string
	// failPut, when set, fails PutState for keys containing it (a crash
	// before that write).
	failPut string
}

func (f *fileState) path(key string) string {
	h := sha256.Sum256([]byte(key))
	return filepath.Join(f.dir, hex.EncodeToString(h[:8]))
}

func (f *fileState) GetState(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := os.ReadFile(f.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func (f *fileState) PutState(ctx context.Context, key string, val []byte) error {
	if f.failPut != "" && strings.Contains(key, f.failPut) {
		return fmt.Errorf("simulated crash before writing %s", key)
	}
	tmp := f.path(key) + ".tmp"
	if err := os.WriteFile(tmp, val, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.path(key))
}

// recorder is a Transport that keeps what it was asked to send and can
// fail the first n sends.
type recorder struct {
	mu       sync.Mutex
	failLeft int
	attempts []Message
	sent     []Message
	checkErr error
}

func (r *recorder) Send(ctx context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, m)
	if r.failLeft > 0 {
		r.failLeft--
		return errors.New("transport down")
	}
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) Check(ctx context.Context) error { return r.checkErr }

func (r *recorder) Recipients() []string { return []string{"analyst@example.org"} }

// health is a fixed sinks.Health.
type health []sinks.SourceStatus

func (h health) SourceStatuses(ctx context.Context) ([]sinks.SourceStatus, error) { return h, nil }

func rec(id, title string, stance classify.Stance, score float64, pub time.Time, topics ...rules.Topic) sinks.Record {
	return sinks.Record{
		EventID: id,
		Item: fetch.Item{Key: id, SourceID: "src-" + id, SourceName: "Source " + id, URL: "https://example.org/" + id,
			Title: title, Summary: "Summary of " + title + ".", Published: pub, Fetched: pub},
		Result: classify.Result{Relevant: true, Score: score, Topics: topics, Stance: stance,
			Evidence: []classify.Match{{Kind: "stance", Sentence: "Evidence sentence for " + id + "."}}},
	}
}

func newTestSink(t *testing.T, tr Transport, st sinks.State, mod func(*Options)) *Sink {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Name: "daily", Schedule: "0 7 * * *", Location: berlin, Transport: tr, State: st,
		Now: func() time.Time { return time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC) }}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// findShared walks up from the working directory to the directory that
// holds shared/ beside the repository.
func findShared(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", sub)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// evalRecords turns the relevant labelled items of shared/eval/dev.jsonl
// into records dated inside the window ending at end: real titles,
// topics, stances and actors. nil when the file is not there.
func evalRecords(t testing.TB, end time.Time) []sinks.Record {
	t.Helper()
	dir := findShared(t, "eval")
	if dir == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []sinks.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var x struct {
			ID, URL, Source, Title, Text, Stance, Actor string
			Relevant                                    bool
			Topics                                      []rules.Topic
		}
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			t.Fatal(err)
		}
		if !x.Relevant {
			continue
		}
		body := strings.TrimSpace(strings.TrimPrefix(x.Text, x.Title))
		sentence := firstSentence(oneLine(body))
		n := len(recs)
		pub := end.Add(-time.Duration(n*23+7) * time.Minute)
		recs = append(recs, sinks.Record{
			EventID: "eval-" + x.ID,
			Item: fetch.Item{Key: x.URL, SourceID: x.Source, SourceName: x.Source, URL: x.URL, Title: x.Title,
				Summary: sentence, Published: pub, Fetched: pub},
			Result: classify.Result{Relevant: true, Score: 0.5 + float64(len(x.Topics))/20, Topics: x.Topics,
				Stance: classify.Stance(x.Stance), Actor: x.Actor,
				Evidence: []classify.Match{{Kind: "stance", Sentence: sentence, Field: classify.FieldContent}}},
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}
