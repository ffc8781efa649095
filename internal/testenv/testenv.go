package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where every
// dependency must be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing ends the test for a missing dependency: it fails under CI=true
// and skips elsewhere, saying what is missing and how to install it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	msg := fmt.Sprintf("missing dependency: %s (install: %s)", what, install)
	if InCI() {
		t.Fatal(msg + "; CI=true: every dependency must be installed by scripts/install-test-deps.sh")
	}
	t.Skip(msg)
}

// LookPath returns the first of names found on PATH; when none is, it
// calls Missing.
func LookPath(t testing.TB, install string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, strings.Join(names, " or ")+" on PATH", install)
	return ""
}

// Chromium returns the headless browser the rendering tests use.
func Chromium(t testing.TB) string {
	t.Helper()
	return LookPath(t, "apt-get install chromium (scripts/install-test-deps.sh does with INSTALL_CHROMIUM=1, as in CI)",
		"chromium", "chromium-browser", "google-chrome")
}
