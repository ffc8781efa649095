package page

import (
	"bufio"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/corpustest"

	"go.yaml.in/yaml/v3"

	"github.com/treatywatch/treatywatch/fetch"
)

// manifestRow is one line of corpus/pages/MANIFEST.tsv.
type manifestRow struct {
	file, kind, originalURL, declaredCharset, expected string
}

func loadManifest(t testing.TB) map[string]manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpustest.Dir(t), "pages", "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cols map[string]int
	rows := make(map[string]manifestRow)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = make(map[string]int)
			for i, c := range fields {
				cols[c] = i
			}
			continue
		}
		get := func(c string) string {
			i, ok := cols[c]
			if !ok || i >= len(fields) {
				t.Fatalf("manifest: no column %q", c)
			}
			return fields[i]
		}
		// "http://www.gop.gov/ (daily ...)": the URL is the first word.
		u, _, _ := strings.Cut(get("original_url"), " ")
		rows[get("file")] = manifestRow{
			file: get("file"), kind: get("kind"), originalURL: u,
			declaredCharset: get("declared_charset"), expected: get("expected_from_origin_tests"),
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// listingConfig is the selector configuration of every listing page, as a
// user would write it in the configuration file.
const listingConfig = `
us-senate-billnelson_press-releases.html:
  item: ".view-display-id-panel_pane_press_releases .views-row"
  link: ".views-field-title a"
  date: ".views-field-created"
  summary: ".views-field-body"
us-senate-billnelson_media-coldfusion.html:
  item: "li:has(a[href^='details.cfm'])"
  date: "li"
  date_layout: "January 02, 2006"
us-house-butterfield_press-releases.html:
  item: ".view-congress-press-releases .views-row"
  link: ".views-field-title a"
  date: ".views-field-created"
  date_layout: "Jan 2, 2006"
  summary: ".views-field-body"
us-senate-cowan_press-releases.html:
  item: "table.table tr:has(td.date)"
  link: "td a"
  date: "td.date time"
us-house-walz_press-releases.html:
  item: ".view-congress-press-releases .views-row"
  link: ".views-field-title a"
  date: ".views-field-created"
  date_layout: "Jan 2, 2006"
  summary: ".views-field-body"
us-house-perlmutter_press-releases.html:
  item: "table.category tr[class^='cat-list-row']"
  link: "td.list-title a"
  date: "td.list-date"
  date_layout: "January 02, 2006"
us-house-gop_news-from-republicans.html:
  item: "ul#membernews > li"
  link: "a"
us-house-keating_press-releases.html:
  item: "table.category tr[class^='cat-list-row']"
  link: "td.list-title a"
  date: "td.list-date"
us-senate-randpaul_press.html:
  item: "#press h2.title"
  link: "a"
us-senate-vitter_press.html:
  item: "table.table tr:has(td.date)"
  link: "td a"
  date: "td.date time"
`

type selectorConfig struct {
	Item       string `yaml:"item"`
	Link       string `yaml:"link"`
	Title      string `yaml:"title"`
	Date       string `yaml:"date"`
	DateLayout string `yaml:"date_layout"`
	Summary    string `yaml:"summary"`
}

func loadListingConfig(t testing.TB) map[string]fetch.PageSelectors {
	t.Helper()
	var raw map[string]selectorConfig
	dec := yaml.NewDecoder(strings.NewReader(listingConfig))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]fetch.PageSelectors, len(raw))
	for file, c := range raw {
		out[file] = fetch.PageSelectors(c)
	}
	return out
}

// TestListingPages reads the ten press-release listings of the corpus with
// their selector configuration, using the original URL as the page URL,
// and checks the items the origin project's tests expect (manifest column
// expected_from_origin_tests); for pages without an upstream test, what
// reading the HTML shows.
func TestListingPages(t *testing.T) {
	manifest := loadManifest(t)
	config := loadListingConfig(t)
	fetched := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

	type itemWant struct {
		url, title string
		date       time.Time // zero: not checked
	}
	tests := []struct {
		file        string
		count       int
		first, last itemWant
		// host, when set, is the host of every item's URL.
		host string
	}{
		{
			file: "us-senate-billnelson_press-releases.html", count: 10,
			first: itemWant{"http://www.billnelson.senate.gov/newsroom/press-releases/lawmakers-seek-tougher-penalties-for-id-thieves", "Lawmakers seek tougher penalties for ID thieves", day(2015, 3, 9)},
			last:  itemWant{url: "http://www.billnelson.senate.gov/newsroom/press-releases/lawmakers-call-on-feds-to-investigate-use-of-supercookies", title: "Lawmakers call on feds to investigate use of supercookies"},
		},
		{
			// Upstream skipped this test (the site moved); what the page
			// holds: 26 media releases of 2013, the last one of January 3.
			// The page declares iso-8859-1 but is UTF-8: the apostrophes
			// must come out right.
			file: "us-senate-billnelson_media-coldfusion.html", count: 26,
			first: itemWant{"http://www.billnelson.senate.gov/news/details.cfm?id=341529&", "Crackdown on fraud against elderly gains steam against backdrop of congressional probe", time.Time{}},
			last:  itemWant{"http://www.billnelson.senate.gov/news/details.cfm?id=338190&", "Nelson begins third term in U.S. Senate", day(2013, 1, 3)},
		},
		{
			// No upstream test: 10 press releases in the main view.
			file: "us-house-butterfield_press-releases.html", count: 10,
			first: itemWant{"http://butterfield.house.gov/media-center/press-releases/north-carolina-delegation-introduces-bipartisan-highway-bill-for", "North Carolina Delegation Introduces Bipartisan Highway Bill for Military Corridor", day(2015, 4, 16)},
		},
		{
			// No upstream test: 15 releases of April and May 2013, links
			// absolute (with white space inside the href).
			file: "us-senate-cowan_press-releases.html", count: 15,
			first: itemWant{"http://www.cowan.senate.gov/newsroom/press/248000-in-fema-grants-to-assist-first-responders-in-orleans-sudbury-and-winthrop", "$248,000 in FEMA Grants to Assist First Responders in Orleans, Sudbury and Winthrop", day(2013, 5, 1)},
			host:  "www.cowan.senate.gov",
		},
		{
			file: "us-house-walz_press-releases.html", count: 10,
			first: itemWant{"http://walz.house.gov/media-center/press-releases/walz-calls-for-passage-of-the-paycheck-fairness-act-on-equal-pay-day-0", "Walz Calls for Passage of the Paycheck Fairness Act on Equal Pay Day", day(2015, 4, 14)},
		},
		{
			// The whole archive is on one page: 445 rows.
			file: "us-house-perlmutter_press-releases.html", count: 445,
			first: itemWant{"http://perlmutter.house.gov/index.php/media-center/press-releases-86821/1505-polis-perlmutter-host-fed-reserve-chief-for-roundtable-with-cannabis-businesses", "Polis, Perlmutter Host Fed Reserve Chief for Roundtable with Cannabis Businesses", day(2015, 4, 10)},
			host:  "perlmutter.house.gov",
		},
		{
			// No upstream test: eight member statements, on other hosts,
			// and one relative link resolved against www.gop.gov.
			file: "us-house-gop_news-from-republicans.html", count: 8,
			first: itemWant{url: "http://posey.house.gov/News/DocumentSingle.aspx?DocumentID=325834", title: "Posey: Cocoa Post Office to be Named in Honor of Local Civil Rights Leaders"},
			last:  itemWant{url: "http://www.gop.gov/republicans/other/relative_url_test.html", title: "Relative URL test"},
		},
		{
			// The whole archive is on one page: 161 rows.
			file: "us-house-keating_press-releases.html", count: 161,
			first: itemWant{"http://keating.house.gov/index.php?option=com_content&view=article&id=314:keating-announces-epa-grant-for-new-bedford&catid=14&Itemid=13", "Keating Announces EPA Grant for New Bedford", day(2015, 3, 13)},
			host:  "keating.house.gov",
		},
		{
			file: "us-senate-randpaul_press.html", count: 20,
			first: itemWant{url: "http://www.paul.senate.gov/news/press/sens-rand-paul-and-mark-warner-introduce-the-bonuses-for-cost-cutters-act-of-2015", title: "Sens. Rand Paul & Mark Warner Introduce the Bonuses for Cost-Cutters Act of 2015"},
			host:  "www.paul.senate.gov",
		},
		{
			file: "us-senate-vitter_press.html", count: 20,
			first: itemWant{"http://www.vitter.senate.gov/newsroom/press/vitter-bp-to-pay-340-million-of-1-billion-in-early-restoration-fines", "Vitter: BP to Pay $340 Million of $1 Billion in Early Restoration Fines", day(2013, 4, 30)},
			host:  "www.vitter.senate.gov",
		},
	}

	listings := 0
	for _, row := range manifest {
		if row.kind == "listing" {
			listings++
			if _, ok := config[row.file]; !ok {
				t.Errorf("listing %s has no selector configuration", row.file)
			}
		}
	}
	if listings != len(tests) {
		t.Errorf("manifest has %d listings, the test covers %d", listings, len(tests))
	}

	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			row, ok := manifest[tt.file]
			if !ok {
				t.Fatalf("%s not in the manifest", tt.file)
			}
			t.Logf("manifest expects: %s", row.expected)
			body, err := os.ReadFile(filepath.Join(corpustest.Dir(t), "pages", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			sel := config[tt.file]
			src := fetch.Source{ID: "test", Kind: fetch.KindPage, URL: row.originalURL, Page: &sel}
			items, err := Parse(body, "text/html; charset="+row.declaredCharset, row.originalURL, src, fetched)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(items) == 0 {
				t.Fatal("no items")
			}
			if tt.count >= 0 && len(items) != tt.count {
				t.Errorf("%d items, want %d", len(items), tt.count)
			}
			check := func(which string, got fetch.Item, want itemWant) {
				t.Helper()
				if want.url != "" && got.URL != want.url {
					t.Errorf("%s URL = %q, want %q", which, got.URL, want.url)
				}
				if want.title != "" && got.Title != want.title {
					t.Errorf("%s title = %q, want %q", which, got.Title, want.title)
				}
				if !want.date.IsZero() && !got.Published.Equal(want.date) {
					t.Errorf("%s date = %v, want %v", which, got.Published, want.date)
				}
			}
			check("first", items[0], tt.first)
			check("last", items[len(items)-1], tt.last)
			keys := make(map[string]bool)
			for i, it := range items {
				if it.Key == "" || it.Title == "" {
					t.Errorf("item %d has key %q title %q", i, it.Key, it.Title)
				}
				if keys[it.Key] {
					t.Errorf("item %d: duplicate key %s", i, it.Key)
				}
				keys[it.Key] = true
				u, err := url.Parse(it.URL)
				if err != nil || !u.IsAbs() {
					t.Errorf("item %d: URL %q is not absolute", i, it.URL)
					continue
				}
				if tt.host != "" && u.Host != tt.host {
					t.Errorf("item %d: host %q, want %q", i, u.Host, tt.host)
				}
				if strings.ContainsAny(it.Title, "\u00c3\u00e2\ufffd") {
					t.Errorf("item %d: mojibake in title %q", i, it.Title)
				}
				if sel.Date != "" && it.Published.IsZero() {
					t.Errorf("item %d (%s): no date", i, it.URL)
				}
			}
		})
	}
}
