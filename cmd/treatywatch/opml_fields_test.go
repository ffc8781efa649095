package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/treatywatch/treatywatch/config"
	"github.com/treatywatch/treatywatch/config/opml"
)

// exampleSources has every field OPML can carry for a source, as the
// README's configuration example writes them.
const exampleSources = `sources:
  - id: eff
    name: EFF Deeplinks
    kind: feed
    url: https://www.eff.org/rss/updates.xml
    lang: en
    actor: Electronic Frontier Foundation
    schedule: "*/15 * * * *"
    active: {days: mon-fri, hours: "07:00-20:00", timezone: America/New_York}
  - id: coe-cybercrime
    kind: page
    url: https://www.coe.int/en/web/cybercrime/news
    page: {item: ".news-item", link: "a", title: "h3", date: ".date", date_layout: "02/01/2006", summary: "p"}
  - id: untc
    kind: treaty
    url: https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XVIII/XVIII-16.en.xml
    schedule: "@every 6h"
  - id: gnews-reuters
    url: https://news.google.com/rss/search?q=%22cybercrime+convention%22+site:reuters.com&hl=en-US&gl=US&ceid=US:en
    archive: {query: '"cybercrime convention" site:reuters.com', page_param: paged, max_pages: 7, sitemap: https://www.reuters.com/sitemap.xml}
sinks:
  - name: jsonl
    type: file
`

// Export then import gives back every source with its id, kind,
// schedule, language, actor, page selectors, archive and active window:
// over the example above and over the built-in config (41 sources).
func TestOPMLRoundTripKeepsEveryField(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty.yaml", "sources:\n  - id: other\n    url: https://example.org/feed\nsinks:\n  - name: jsonl\n    type: file\n")
	builtin := writeFile(t, dir, "builtin.yaml", string(config.DefaultYAML()))
	for _, cfgPath := range []string{writeFile(t, dir, "example.yaml", exampleSources), builtin} {
		t.Run(filepath.Base(cfgPath), func(t *testing.T) {
			orig, err := config.Load(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			code, exported, errOut := runCmd(t, "opml", "export", "--config", cfgPath)
			if code != 0 {
				t.Fatalf("export: %s", errOut)
			}
			if !strings.Contains(exported, `xmlns:tw="`+opml.Namespace+`"`) {
				t.Errorf("no namespace declaration in the export")
			}
			file := filepath.Join(dir, filepath.Base(cfgPath)+".opml")
			if err := os.WriteFile(file, []byte(exported), 0o644); err != nil {
				t.Fatal(err)
			}
			code, imported, errOut := runCmd(t, "opml", "import", "--config", empty, file)
			if code != 0 || errOut != "" {
				t.Fatalf("import exit %d: %s", code, errOut)
			}
			got, err := config.Parse("imported", []byte(imported+"sinks:\n  - name: jsonl\n    type: file\n"))
			if err != nil {
				t.Fatalf("imported block does not load: %v\n%s", err, imported)
			}
			if len(got.Sources) != len(orig.Sources) {
				t.Fatalf("%d sources back, want %d", len(got.Sources), len(orig.Sources))
			}
			for i, want := range orig.Sources {
				g := got.Sources[i]
				type carried struct {
					ID, Name, Kind, URL, Schedule, Lang, Actor string
					Page                                       *config.Page
					Archive                                    *config.Archive
					Active                                     *config.Window
				}
				a := carried{g.ID, g.Name, string(g.Kind), g.URL, g.Schedule, g.Lang, g.Actor, g.Page, g.Archive, g.Active}
				b := carried{want.ID, want.Name, string(want.Kind), want.URL, want.Schedule, want.Lang, want.Actor, want.Page, want.Archive, want.Active}
				if !reflect.DeepEqual(a, b) {
					t.Errorf("source %d came back as\n%+v\nwant\n%+v", i, a, b)
				}
			}
		})
	}
}
