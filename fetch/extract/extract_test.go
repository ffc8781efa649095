package extract

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/treatywatch/treatywatch/fetch"
	"github.com/treatywatch/treatywatch/internal/corpustest"
)

// loopbackClient is the real shared client, allowed to reach the test
// servers on 127.0.0.1 (the SSRF guard refuses loopback by default) and
// without the per-host pause.
func loopbackClient() *fetch.Client {
	return fetch.NewClient(fetch.ClientOptions{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		HostInterval: -1,
	})
}

const article = `<!doctype html><html><head><meta charset="{{charset}}"><title>Statement on the Convention | Ministry</title></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/press">Press</a></li><li><a href="/contact">Contact</a></li></ul></nav>
<article><h1>Statement on the Convention</h1>
<p>The delegation welcomes the adoption of the United Nations Convention against Cybercrime by the General Assembly, after three years of negotiation in the Ad Hoc Committee.</p>
<p>It regrets that the safeguards for human rights remain weak, and that the scope of the convention extends to the collection of electronic evidence for any serious crime.</p>
<p>The delegation will study the text carefully before deciding whether to sign it at the ceremony in Hanoi, and it calls on all states to apply the convention in line with international human rights law.</p>
<p>Con\u00adven\u00adtion text and the explanatory notes are available from the secretariat on request; the delegation d{{e}}clines to comment further.</p>
</article><footer><p>Copyright Ministry. All rights reserved.</p></footer></body></html>`

func TestExtract(t *testing.T) {
	utf8Page := strings.NewReplacer("{{charset}}", "utf-8", "{{e}}", "é", `\u00ad`, "\u00ad").Replace(article)
	latin1Page := strings.NewReplacer("{{charset}}", "iso-8859-1", "{{e}}", "\xe9", `\u00ad`, "").Replace(article)

	mux := http.NewServeMux()
	mux.HandleFunc("/utf8", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, utf8Page)
	})
	mux.HandleFunc("/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, latin1Page)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/utf8", http.StatusFound)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html><body><script>var x = 1;</script></body></html>")
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	e := New(loopbackClient(), Options{})
	ctx := context.Background()
	src := fetch.Source{ID: "mfa"}

	for _, path := range []string{"/moved", "/latin1"} {
		t.Run(path, func(t *testing.T) {
			a, err := e.Extract(ctx, src, srv.URL+path)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"welcomes the adoption of the United Nations Convention against Cybercrime", "Convention text and the explanatory notes", "déclines"} {
				if !strings.Contains(a.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, a.Text)
				}
			}
			for _, unwanted := range []string{"Copyright", "Contact", "\u00ad", "Statement on the Convention\n"} {
				if strings.Contains(a.Text, unwanted) {
					t.Errorf("text has %q:\n%s", unwanted, a.Text)
				}
			}
			if n := strings.Count(a.Text, "\n\n"); n != 3 {
				t.Errorf("%d paragraph breaks, want 3:\n%s", n, a.Text)
			}
			if !strings.HasPrefix(a.Title, "Statement on the Convention") {
				t.Errorf("title = %q", a.Title)
			}
			if !a.Provenance.Extracted || a.Provenance.Status != 200 || a.Provenance.FetchedAt.IsZero() || len(a.Provenance.BodySHA256) != 64 {
				t.Errorf("provenance = %+v", a.Provenance)
			}
			if path == "/moved" {
				if a.FinalURL != srv.URL+"/utf8" || a.Provenance.FinalURL != a.FinalURL {
					t.Errorf("final URL = %q (provenance %q)", a.FinalURL, a.Provenance.FinalURL)
				}
				sum := sha256.Sum256([]byte(utf8Page))
				if a.Provenance.BodySHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("body hash %s does not match the served body", a.Provenance.BodySHA256)
				}
			}
		})
	}

	t.Run("no text", func(t *testing.T) {
		_, err := e.Extract(ctx, src, srv.URL+"/empty")
		if fetch.KindOf(err) != fetch.ErrParse {
			t.Errorf("err = %v, want kind parse", err)
		}
	})
	t.Run("http error passes through", func(t *testing.T) {
		_, err := e.Extract(ctx, src, srv.URL+"/gone")
		var fe *fetch.Error
		if !errors.As(err, &fe) || fe.Kind != fetch.ErrHTTP || fe.Status != 404 {
			t.Errorf("err = %v, want http 404", err)
		}
	})
}

// TestFromHTMLKoreanPage is the page on which every Go library's own reader
// failed with "transform: short internal buffer" (EXTRACTION.md §1c).
func TestFromHTMLKoreanPage(t *testing.T) {
	const id = "0ec95c7261d122f304728e90c983450ef1ce1e0b423546835c397d50aaf0d0f2"
	dir := filepath.Join(corpustest.Dir(t), "extraction")
	gt := loadTruth(t, dir)
	body := readGzip(t, filepath.Join(dir, "html", id+".html.gz"))
	text, err := FromHTML(body, gt[id].URL)
	if err != nil {
		t.Fatal(err)
	}
	p, r, _ := Score(text, gt[id].ArticleBody)
	t.Logf("P %.3f R %.3f, %d runes", p, r, len([]rune(text)))
	if r < 0.5 {
		t.Errorf("recall %.3f on the Korean page", r)
	}
}

func TestThin(t *testing.T) {
	tests := []struct {
		name     string
		it       fetch.Item
		minWords int
		want     bool
	}{
		{"title only", fetch.Item{Title: "UN adopts cybercrime convention"}, 50, true},
		{"long content", fetch.Item{Title: "x", Content: strings.Repeat("word ", 60)}, 50, false},
		{"words add up across fields", fetch.Item{Title: strings.Repeat("a ", 20), Summary: strings.Repeat("b ", 20), Content: strings.Repeat("c ", 10)}, 50, false},
		{"just below", fetch.Item{Summary: strings.Repeat("b ", 49)}, 50, true},
		{"markup is not words", fetch.Item{Summary: `<p class="lead"><a href="https://example.org/a/b/c">Read more</a></p>`}, 3, true},
		{"CJK characters count", fetch.Item{Title: "联合国打击网络犯罪公约"}, 10, false},
		{"empty", fetch.Item{}, 1, true},
		{"zero threshold", fetch.Item{}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Thin(tt.it, tt.minWords); got != tt.want {
				t.Errorf("Thin = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name, pred, truth string
		p, r              float64
		ok                bool
	}{
		{"identical", "one two three four five", "one two three four five", 1, 1, true},
		{"punctuation and case", "One, two; three four!", "One two three four", 1, 1, true},
		{"case matters", "one two three four", "One two three four", 0, 0, true},
		{"half extra", "a b c d e f g h", "a b c d e", 0.4, 1, true},
		{"short texts are one shingle", "a b", "a b", 1, 1, true},
		{"empty prediction", "", "a b c d", 0, 0, false},
		{"repeats count", "a b c d a b c d", "a b c d", 0.2, 1, true},
		{"unicode words", "Заявление делегации по конвенции ООН", "Заявление делегации по конвенции", 0.5, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, r, ok := Score(tt.pred, tt.truth)
			if d := p - tt.p; d > 1e-9 || d < -1e-9 || r != tt.r || ok != tt.ok {
				t.Errorf("Score = %v %v %v, want %v %v %v", p, r, ok, tt.p, tt.r, tt.ok)
			}
		})
	}
	var s Scorer
	s.Add("", "a b c d")          // no precision, recall 0
	s.Add("a b c d", "a b c d")   // 1, 1
	s.Add("a b c d e", "a b c d") // 0.5, 1
	res := s.Result()
	if res.Precision != 0.75 || res.Recall != 2.0/3 || res.Accuracy != 1.0/3 {
		t.Errorf("Result = %+v", res)
	}
	if want := 2 * 0.75 * (2.0 / 3) / (0.75 + 2.0/3); res.F1 != want {
		t.Errorf("F1 = %v, want %v (from the averages, not the mean of F1s)", res.F1, want)
	}
}
