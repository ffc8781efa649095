package digest

import (
	"context"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/testenv"
	"github.com/treatywatch/treatywatch/sinks"
)

var sampleOut = flag.String("sample-out", "", "TestWriteSample writes the sample digest's HTML to this file (and the text part beside it, .txt)")

// sampleDigest renders a realistic window: the relevant labelled items of
// shared/eval (real titles, topics, stances, actors), else SampleRecords,
// with a previous digest and failing sources so that every section shows.
func sampleDigest(t *testing.T) Message {
	t.Helper()
	end := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	recs := evalRecords(t, end)
	if len(recs) == 0 {
		recs = SampleRecords(end)
	}
	s := newTestSink(t, &recorder{}, &fileState{dir: t.TempDir()}, nil)
	// The previous digest: a smaller window with most of the same topics.
	prev := statsOf(end.Add(-24*time.Hour), recs[:len(recs)/3])
	prev.Topics["ratification"] = 3
	hs := []sinks.SourceStatus{
		{ID: "eff", Name: "EFF Deeplinks", State: "blocked", Failures: 6, LastError: "HTTP 403: Cloudflare challenge",
			LastSuccess: end.Add(-50 * time.Hour)},
		{ID: "un-press", Name: "UN Press", State: "failing", Failures: 2, LastError: "timeout after 30s"},
		{ID: "unodc", Name: "UNODC", State: "ok"},
	}
	m, err := s.Render(sinks.Window{Start: end.Add(-24 * time.Hour), End: end}, recs, &prev, hs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWriteSample writes the sample digest for scripts/render-digest.sh:
// go test ./sinks/digest -run TestWriteSample -sample-out=/tmp/digest.html
func TestWriteSample(t *testing.T) {
	if *sampleOut == "" {
		t.Skip("no -sample-out")
	}
	m := sampleDigest(t)
	if err := os.WriteFile(*sampleOut, []byte(m.HTML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*sampleOut+".txt", []byte(m.Subject+"\n\n"+m.Text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChromiumRendersDigest renders the built-in HTML digest with headless
// Chromium and checks the screenshot is a real page. Without Chromium it
// skips on a developer's machine and fails under CI=true.
func TestChromiumRendersDigest(t *testing.T) {
	bin := testenv.Chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "digest.html")
	if err := os.WriteFile(page, []byte(sampleDigest(t).HTML), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "digest.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=800,1600",
		"file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 800 || b.Dy() != 1600 || st.Size() < 20_000 {
		t.Fatalf("screenshot %dx%d, %d bytes", b.Dx(), b.Dy(), st.Size())
	}
	colours := map[uint32]bool{}
	dark, total := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if r>>8 < 100 && g>>8 < 100 && bl>>8 < 100 {
				dark++
			}
			total++
		}
	}
	// Text makes dark pixels; stance colours and anti-aliasing make many
	// distinct colours. A blank or error page has neither.
	if frac := float64(dark) / float64(total); frac < 0.005 || len(colours) < 100 {
		t.Errorf("screenshot looks blank: %.2f%% dark pixels, %d colours", 100*frac, len(colours))
	}
}
