package file

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/treatywatch/treatywatch/sinks"
	"github.com/treatywatch/treatywatch/sinks/sinktest"
)

const killEnv = "TREATYWATCH_FILE_SINK_CHILD"

// TestKillDuringWrites starts a child process that writes records one
// batch at a time and prints an ack after each Write returns nil, kills it
// with SIGKILL in the middle, then reopens the file the way the restarted
// daemon would and retries everything: every acked record is there, and
// every record ends up in the file exactly once.
func TestKillDuringWrites(t *testing.T) {
	if os.Getenv(killEnv) != "" {
		t.Skip("in the child")
	}
	for _, format := range []string{FormatJSONL, FormatCSV} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out."+format)
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
			cmd.Env = append(os.Environ(), killEnv+"="+format+":"+path)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acked := map[string]bool{}
			sc := bufio.NewScanner(out)
			for sc.Scan() && len(acked) < 60 {
				if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					acked[id] = true
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if len(acked) < 60 {
				t.Fatalf("child acked only %d records", len(acked))
			}

			s := open(t, Options{Name: "x", Path: path, Format: format})
			read := map[string]func(*testing.T, string) []sinks.Envelope{FormatJSONL: readJSONL, FormatCSV: readCSV}[format]
			onDisk := map[string]bool{}
			for _, e := range read(t, path) {
				onDisk[e.EventID] = true
			}
			for id := range acked {
				if !onDisk[id] {
					t.Errorf("acked event %s is not in the file", id)
				}
			}
			recs := sinktest.Records(3000)
			if err := s.Write(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, e := range read(t, path) {
				count[e.EventID]++
			}
			for _, r := range recs {
				if count[r.EventID] != 1 {
					t.Errorf("event %s is in the file %d times", r.EventID, count[r.EventID])
				}
			}
			t.Logf("killed after %d acks; %d records were on disk", len(acked), len(onDisk))
		})
	}
}

// TestKillChild is the child of TestKillDuringWrites.
func TestKillChild(t *testing.T) {
	spec := os.Getenv(killEnv)
	if spec == "" {
		t.Skip("only run as the child of TestKillDuringWrites")
	}
	format, path, _ := strings.Cut(spec, ":")
	s, err := New("x", path, format)
	if err != nil {
		t.Fatal(err)
	}
	recs := sinktest.Records(3000)
	for i := 0; i < len(recs); i += 3 {
		batch := recs[i:min(i+3, len(recs))]
		if err := s.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		for _, r := range batch {
			fmt.Printf("ack %s\n", r.EventID)
		}
	}
}
