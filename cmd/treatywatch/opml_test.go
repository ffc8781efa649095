package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/config/opml"
)

const opmlConfig = `sources:
  - id: eff
    name: EFF Deeplinks
    url: https://www.eff.org/rss/updates.xml
    lang: en
  - id: reuters-gn
    name: Reuters via Google News
    url: https://news.google.com/rss/search?q=%22cybercrime+convention%22+site:reuters.com&hl=en-US&gl=US&ceid=US:en
  - id: icj
    name: International Commission of Jurists
    kind: page
    url: https://www.icj.org/news/
    page:
      item: article
      link: h2 a
sinks:
  - name: jsonl
    type: file
`

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOPMLExport(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "config.yaml", opmlConfig)
	code, out, errOut := runCmd(t, "opml", "export", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc opml.Document
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("export is not XML: %v\n%s", err, out)
	}
	if doc.Version != "2.0" || doc.Head.Title == "" || doc.Head.DateCreated == "" || len(doc.Body.Outlines) != 3 {
		t.Fatalf("export = %+v", doc)
	}
	want := []opml.Outline{
		{Type: "rss", Text: "EFF Deeplinks", Title: "EFF Deeplinks", XMLURL: "https://www.eff.org/rss/updates.xml", HTMLURL: "https://www.eff.org/", Language: "en"},
		{Type: "rss", Text: "Reuters via Google News", Title: "Reuters via Google News",
			XMLURL: "https://news.google.com/rss/search?q=%22cybercrime+convention%22+site:reuters.com&hl=en-US&gl=US&ceid=US:en", HTMLURL: "https://news.google.com/"},
		{Type: "link", Text: "International Commission of Jurists", Title: "International Commission of Jurists", URL: "https://www.icj.org/news/"},
	}
	for i, o := range doc.Body.Outlines {
		if o.Type != want[i].Type || o.Text != want[i].Text || o.Title != want[i].Title || o.XMLURL != want[i].XMLURL ||
			o.HTMLURL != want[i].HTMLURL || o.URL != want[i].URL || o.Language != want[i].Language {
			t.Errorf("outline %d = %+v, want %+v", i, o, want[i])
		}
	}
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`) || !strings.Contains(out, `&amp;hl=en-US`) {
		t.Errorf("export:\n%s", out)
	}
}

// Export, then import into another config: the sources come back with
// their ids and kinds (the page source with its selectors), the printed
// block is a valid sources list.
func TestOPMLRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.yaml", opmlConfig)
	code, exported, _ := runCmd(t, "opml", "export", "--config", cfg)
	if code != 0 {
		t.Fatal("export failed")
	}
	file := writeFile(t, dir, "subs.opml", exported)
	other := writeFile(t, dir, "other.yaml", "sources:\n  - id: other\n    url: https://example.org/feed\nsinks:\n  - name: jsonl\n    type: file\n")
	code, imported, errOut := runCmd(t, "opml", "import", "--config", other, file)
	if code != 0 {
		t.Fatalf("import exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("warnings: %q", errOut)
	}
	c, err := config.Parse("imported", []byte(imported+"sinks:\n  - name: jsonl\n    type: file\n"))
	if err != nil {
		t.Fatalf("imported block is not a valid config: %v\n%s", err, imported)
	}
	var urls, ids, kinds []string
	for _, s := range c.Sources {
		urls = append(urls, s.URL)
		ids = append(ids, s.ID)
		kinds = append(kinds, string(s.Kind))
	}
	wantURLs := []string{"https://www.eff.org/rss/updates.xml",
		"https://news.google.com/rss/search?q=%22cybercrime+convention%22+site:reuters.com&hl=en-US&gl=US&ceid=US:en",
		"https://www.icj.org/news/"}
	if !slices.Equal(urls, wantURLs) {
		t.Errorf("round trip URLs %q, want %q", urls, wantURLs)
	}
	if want := []string{"eff", "reuters-gn", "icj"}; !slices.Equal(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
	if want := []string{"feed", "feed", "page"}; !slices.Equal(kinds, want) {
		t.Errorf("kinds %q, want %q", kinds, want)
	}
	if p := c.Sources[2].Page; p == nil || p.Item != "article" || p.Link != "h2 a" {
		t.Errorf("page selectors lost: %+v", p)
	}
	if c.Sources[0].Name != "EFF Deeplinks" || c.Sources[0].Lang != "en" {
		t.Errorf("first source = %+v", c.Sources[0])
	}

	// Importing into the config it came from adds nothing.
	code, again, errOut := runCmd(t, "opml", "import", "--config", cfg, file)
	if code != 0 || !strings.Contains(again, "sources: []") || strings.Count(errOut, "has it already") != 3 {
		t.Errorf("re-import exit %d:\n%s\n%s", code, again, errOut)
	}
}

func TestOPMLImportFlattensAndNames(t *testing.T) {
	const subs = `<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="News">
      <outline text="Le Monde &#8212; Cybercriminalit&#233;" type="rss" xmlUrl="https://www.lemonde.fr/pixels/rss_full.xml" language="fr"/>
      <outline text="Tech">
        <outline title="&#1058;&#1040;&#1057;&#1057;" text="TASS" type="rss" xmlURL="https://tass.ru/rss/v2.xml"/>
        <outline text="EFF" type="rss" xmlurl="https://www.eff.org/rss/updates.xml"/>
      </outline>
    </outline>
    <outline text="EFF" type="rss" xmlUrl="https://www.eff.org/rss/deeplinks.xml"/>
    <outline text="A site without a feed" type="link" url="https://example.org/news/"/>
    <outline text="Relative" type="rss" xmlUrl="/feed.xml"/>
    <outline text="Existing" type="rss" xmlUrl="https://example.org/feed"/>
    <outline text="Dup" type="rss" xmlUrl="https://www.eff.org/rss/deeplinks.xml"/>
  </body>
</opml>`
	// The declared ISO-8859-1 is honoured: the é below is one byte.
	body := strings.Replace(subs, "Cybercriminalit&#233;", "Cybercriminalit\xe9", 1)
	dir := t.TempDir()
	file := writeFile(t, dir, "subs.opml", body)
	other := writeFile(t, dir, "other.yaml", "sources:\n  - id: eff\n    url: https://example.org/feed\nsinks:\n  - name: jsonl\n    type: file\n")
	code, out, errOut := runCmd(t, "opml", "import", "--config", other, file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c, err := config.Parse("imported", []byte(out+"sinks:\n  - name: jsonl\n    type: file\n"))
	if err != nil {
		t.Fatalf("not a valid config: %v\n%s", err, out)
	}
	type row struct{ id, name, url, lang string }
	var got []row
	for _, s := range c.Sources {
		got = append(got, row{s.ID, s.Name, s.URL, s.Lang})
	}
	want := []row{
		{"le-monde-cybercriminalite", "Le Monde — Cybercriminalité", "https://www.lemonde.fr/pixels/rss_full.xml", "fr"},
		{"tass.ru", "ТАСС", "https://tass.ru/rss/v2.xml", ""},
		{"eff-2", "EFF", "https://www.eff.org/rss/updates.xml", ""}, // "eff" is taken by the config
		{"eff-3", "EFF", "https://www.eff.org/rss/deeplinks.xml", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("imported\n%q\nwant\n%q", got, want)
	}
	for _, w := range []string{`"A site without a feed" skipped: no xmlUrl`, `"Relative" skipped`, `"Existing" skipped: the config has it already as source eff`, `"Dup" skipped`} {
		if !strings.Contains(errOut, w) {
			t.Errorf("warnings lack %q:\n%s", w, errOut)
		}
	}
}

func TestOPMLImportStdinAndErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", "sources:\n  - id: x\n    url: https://example.org/x\nsinks:\n  - name: jsonl\n    type: file\n")
	var out, errb strings.Builder
	in := strings.NewReader(`<opml version="2.0"><body><outline text="Feed" xmlUrl="https://ex.org/rss"/></body></opml>`)
	if code := run(t.Context(), []string{"opml", "import", "--config", cfg, "-"}, in, &out, &errb); code != 0 {
		t.Fatalf("stdin import exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "url: https://ex.org/rss") || !strings.Contains(out.String(), "id: feed") {
		t.Errorf("stdin import:\n%s", out.String())
	}
	tests := []struct {
		name string
		args []string
		body string
		code int
		msg  string
	}{
		{"no subcommand", nil, "", 2, "Usage"},
		{"unknown subcommand", []string{"merge"}, "", 2, "Usage"},
		{"no file", []string{"import", "--config", cfg}, "", 2, "give one OPML file"},
		{"not opml", []string{"import", "--config", cfg}, `<rss version="2.0"><channel/></rss>`, 1, "not OPML"},
		{"not xml", []string{"import", "--config", cfg}, `hello`, 1, "not OPML"},
		{"missing file", []string{"import", "--config", cfg, filepath.Join(dir, "nope.opml")}, "", 1, "nope.opml"},
		{"export takes no file", []string{"export", "--config", cfg, "x"}, "", 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"opml"}, tt.args...)
			if tt.body != "" {
				args = append(args, writeFile(t, t.TempDir(), "in.opml", tt.body))
			}
			code, _, errOut := runCmd(t, args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, errOut, tt.msg)
			}
		})
	}
}
