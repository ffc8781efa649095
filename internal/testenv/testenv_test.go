package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingFailsInCI runs a child test with and without CI=true and a
// PATH that holds nothing: the child must skip locally and fail in CI,
// naming what is missing both times.
func TestMissingFailsInCI(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		LookPath(t, "apt-get install nothing-here", "no-such-program-xyz")
		t.Fatal("LookPath returned for a missing program")
	}
	tests := []struct {
		ci       string
		wantExit bool
		want     string
	}{
		{"", false, "--- SKIP"},
		{"true", true, "--- FAIL"},
	}
	for _, tt := range tests {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingFailsInCI$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI="+tt.ci, "PATH="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if (err != nil) != tt.wantExit {
			t.Errorf("CI=%q: exit error %v, want failure %v\n%s", tt.ci, err, tt.wantExit, out)
		}
		if !strings.Contains(string(out), tt.want) || !strings.Contains(string(out), "missing dependency: no-such-program-xyz on PATH (install: apt-get install nothing-here)") {
			t.Errorf("CI=%q: output lacks %q and the missing program:\n%s", tt.ci, tt.want, out)
		}
	}
}

func TestLookPathFinds(t *testing.T) {
	if p := LookPath(t, "", "no-such-program-xyz", "sh"); !strings.HasSuffix(p, "/sh") {
		t.Errorf("LookPath = %q, want sh", p)
	}
}
