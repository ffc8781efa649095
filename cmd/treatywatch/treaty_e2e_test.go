package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTreatyStatusEvents watches a depositary status document: each
// participant action is delivered once, labelled ratification, and a new
// ratification in a later version of the document is the only new record.
func TestTreatyStatusEvents(t *testing.T) {
	var mu sync.Mutex
	rows := []string{
		"<Row><Entry>Azerbaijan</Entry><Entry>25 Oct 2025</Entry><Entry>10 Feb 2026</Entry></Row>",
		"<Row><Entry>Mauritius</Entry><Entry>19 Nov 2025</Entry><Entry/></Row>",
	}
	modified := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		doc := `<?xml version="1.0" encoding="ISO-8859-1"?><TreatyCollection><Treaty><Header><Title>United Nations Convention against Cybercrime; Strengthening International Cooperation</Title></Header>
<Participants><Table><TGroup><Thead><Row><Entry>Participant</Entry><Entry>Signature</Entry><Entry>Ratification, Acceptance(A), Approval(AA), Accession(a)</Entry></Row></Thead>
<Tbody><Rows>` + strings.Join(rows, "\n") + `</Rows></Tbody></TGroup></Table></Participants></Treaty></TreatyCollection>`
		mod := modified
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		http.ServeContent(w, r, "status.xml", mod, strings.NewReader(doc))
	}))
	defer srv.Close()
	dir := t.TempDir()
	src := fmt.Sprintf("  - id: untc\n    kind: treaty\n    url: %s/doc/Publication/MTDSG/Volume%%20II/Chapter%%20XVIII/XVIII-16.en.xml\n", srv.URL)
	cfg := writeConfig(t, dir, []string{src}, "")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	once := func(args ...string) {
		t.Helper()
		out.Reset()
		if code := run(ctx, append([]string{"once", "--config", cfg, "--log-level", "error"}, args...), nil, &out, &errOut); code != 0 {
			t.Fatalf("once: %d\n%s%s", code, out.String(), errOut.String())
		}
	}
	titles := func() []string {
		var ts []string
		for _, e := range readJSONL(t, filepath.Join(dir, "items.jsonl")) {
			if !slices.Contains(e.Labels.Topics, "ratification") {
				t.Errorf("%q is not tagged ratification: %v", e.Item.Title, e.Labels.Topics)
			}
			ts = append(ts, e.Item.Title)
		}
		return ts
	}

	once("--deliver-existing")
	want := []string{
		"Azerbaijan signed the United Nations Convention against Cybercrime",
		"Azerbaijan ratified the United Nations Convention against Cybercrime",
		"Mauritius signed the United Nations Convention against Cybercrime",
	}
	if got := titles(); !slices.Equal(got, want) {
		t.Fatalf("records = %q, want %q", got, want)
	}
	once() // unchanged: a 304, nothing new
	if !strings.Contains(lineFor(out.String(), "untc"), "not-modified") {
		t.Errorf("second run: %s", out.String())
	}

	mu.Lock()
	rows[1] = "<Row><Entry>Mauritius</Entry><Entry>19 Nov 2025</Entry><Entry>2 Jun 2026</Entry></Row>"
	modified = modified.Add(48 * time.Hour)
	mu.Unlock()
	once()
	got := titles()
	if len(got) != 4 || got[3] != "Mauritius ratified the United Nations Convention against Cybercrime" {
		t.Errorf("after the new ratification: %q", got)
	}

	// The digest shows the depositary's own count next to the news.
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "  - name: daily\n    type: digest\n    transport: {kind: webhook, url: %s/mail, to: [team@example.org]}\n", srv.URL)
	f.Close()
	out.Reset()
	if code := run(ctx, []string{"digest", "--preview", "--since", "2020-01-01", "--config", cfg}, nil, &out, &errOut); code != 0 {
		t.Fatalf("digest --preview: %d\n%s", code, errOut.String())
	}
	for _, want := range []string{
		"Official (UN Treaty Collection): Status per the UN Treaty Collection: 2 signatories, 2 parties; it enters into force 90 days after the 40th",
		"Official (UN Treaty Collection): Mauritius ratified the United Nations Convention against Cybercrime (2 Jun 2026)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("digest lacks %q:\n%s", want, out.String())
		}
	}
}
