package treaty

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/treatywatch/treatywatch/fetch"
)

// statusDoc writes a status document in the depositary's layout (an
// MTDSG XML entry, ISO-8859-1, footnote markers escaped in the text)
// with the given participant rows.
func statusDoc(t testing.TB, rows [][3]string) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="ISO-8859-1"?>
<TreatyCollection><Treaty>
<Header><Title>United Nations Convention against Cybercrime; Strengthening International Cooperation for Combating Certain Crimes Committed by Means of Information and Communications Technology Systems and for the Sharing of Evidence in Electronic Form of Serious Crimes</Title></Header>
<Participants><Table><TGroup>
<Thead><Row><Entry>Participant</Entry><Entry>Signature</Entry><Entry>Ratification, Acceptance(A), Approval(AA), Accession(a)</Entry></Row></Thead>
<Tbody><Rows>
`)
	for _, r := range rows {
		fmt.Fprintf(&b, "<Row><Entry>%s</Entry><Entry>%s</Entry><Entry>%s</Entry></Row>\n", r[0], r[1], r[2])
	}
	b.WriteString("</Rows></Tbody></TGroup></Table></Participants></Treaty></TreatyCollection>\n")
	out, err := charmap.ISO8859_1.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

var baseRows = [][3]string{
	{"Azerbaijan", "25 Oct 2025", "10 Feb 2026"},
	{"Côte d'Ivoire", "25 Oct 2025", ""},
	{"European Union&lt;superscript&gt;1&lt;/superscript&gt;", "25 Oct 2025", "\t3 Mar 2026 AA"},
	{"Mauritius", "19 Nov 2025", ""},
	{"Qatar", "", "12 Apr 2026 a&lt;superscript&gt;2&lt;/superscript&gt;"},
	{"Viet Nam", "25 Oct 2025", "6 May 2026 A"},
}

func TestParse(t *testing.T) {
	st, err := Parse(statusDoc(t, baseRows))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.Title, "United Nations Convention against Cybercrime;") {
		t.Errorf("title = %q", st.Title)
	}
	want := []Participant{
		{"Azerbaijan", day(2025, 10, 25), day(2026, 2, 10), Ratification},
		{"Côte d'Ivoire", day(2025, 10, 25), time.Time{}, ""},
		{"European Union", day(2025, 10, 25), day(2026, 3, 3), Approval},
		{"Mauritius", day(2025, 11, 19), time.Time{}, ""},
		{"Qatar", time.Time{}, day(2026, 4, 12), Accession},
		{"Viet Nam", day(2025, 10, 25), day(2026, 5, 6), Acceptance},
	}
	if !slices.Equal(st.Participant, want) {
		t.Errorf("participants =\n%+v\nwant\n%+v", st.Participant, want)
	}
	if s, p := st.Counts(); s != 5 || p != 4 {
		t.Errorf("counts = %d signatories, %d parties; want 5, 4", s, p)
	}
	if n := len(st.Events()); n != 9 {
		t.Errorf("%d events, want 9", n)
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     []byte
		wantErr error
		wantN   int
	}{
		{"not a status document", []byte(`<html><body>Service unavailable</body></html>`), ErrNoTable, 0},
		{"a bad date is skipped and reported", statusDoc(t, append(slices.Clone(baseRows), [3]string{"Atlantis", "31 Foo 2026", ""})), nil, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse(tt.doc)
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if len(st.Participant) != tt.wantN {
				t.Errorf("%d participants, want %d", len(st.Participant), tt.wantN)
			}
		})
	}
}

// TestFetchYieldsEventsAndNewOnesOnly serves the document through the
// real client: the first fetch gives every action, a refetch gets a 304,
// and a changed document gives keys that differ only by the new action.
func TestFetchYieldsEventsAndNewOnesOnly(t *testing.T) {
	doc := statusDoc(t, baseRows)
	modified := time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		http.ServeContent(w, r, "status.xml", modified, strings.NewReader(string(doc)))
	}))
	defer srv.Close()
	client := fetch.NewClient(fetch.ClientOptions{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostInterval: -1})
	f := New(client, nil)
	src := fetch.Source{ID: "untc", Kind: fetch.KindTreaty, URL: srv.URL + "/doc/Publication/MTDSG/Volume%20II/Chapter%20XVIII/XVIII-16.en.xml"}
	ctx := context.Background()

	b, err := f.Fetch(ctx, src, fetch.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 9 {
		t.Fatalf("%d items, want 9", len(b.Items))
	}
	az := b.Items[1]
	if az.Title != "Azerbaijan ratified the United Nations Convention against Cybercrime" || !az.Published.Equal(day(2026, 2, 10)) {
		t.Errorf("item = %q %v", az.Title, az.Published)
	}
	if !strings.Contains(az.Summary, "5 signatories, 4 parties") || !strings.Contains(az.Summary, "36 more needed") {
		t.Errorf("summary = %q", az.Summary)
	}
	if st, ok := StatusOf(az); !ok || !strings.HasPrefix(st, "Status per the UN Treaty Collection: 5 signatories, 4 parties") {
		t.Errorf("StatusOf = %q, %v", st, ok)
	}
	if _, ok := StatusOf(fetch.Item{Key: "https://example.org/news", Summary: az.Summary}); ok {
		t.Error("a news item counted as a status event")
	}
	if az.URL != "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XVIII-16&chapter=18&clang=_en" {
		t.Errorf("url = %q", az.URL)
	}
	if az.Provenance.BodySHA256 == "" || az.Provenance.Status != 200 {
		t.Errorf("provenance = %+v", az.Provenance)
	}

	again, err := f.Fetch(ctx, src, b.Next)
	if err != nil || !again.NotModified {
		t.Fatalf("refetch: %+v %v; want a 304", again, err)
	}

	doc = statusDoc(t, append(slices.Clone(baseRows[:3]), [3]string{"Mauritius", "19 Nov 2025", "2 Jun 2026"}, baseRows[4], baseRows[5]))
	modified = modified.Add(24 * time.Hour)
	b2, err := f.Fetch(ctx, src, b.Next)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range b.Items {
		seen[it.Key] = true
	}
	var fresh []string
	for _, it := range b2.Items {
		if !seen[it.Key] {
			fresh = append(fresh, it.Title)
		}
	}
	if !slices.Equal(fresh, []string{"Mauritius ratified the United Nations Convention against Cybercrime"}) {
		t.Errorf("new events = %q", fresh)
	}
}
