package classify

import (
	"testing"

	"github.com/treatywatch/treatywatch/fetch"
)

// TestLangPerItem: the item's own words decide its language; the source's
// language is a hint for texts too short to tell.
func TestLangPerItem(t *testing.T) {
	e := engine(t)
	tests := []struct {
		name, hint, title, text, want string
	}{
		{"Spanish item of an English source", "en",
			"Uruguay firmó la Convención de las Naciones Unidas contra la Ciberdelincuencia",
			"El gobierno firmó en Hanói la Convención de las Naciones Unidas contra la Ciberdelincuencia y espera que el parlamento apruebe pronto su ratificación para fortalecer la cooperación internacional.", "es"},
		{"Russian item of an English source", "en",
			"Азербайджан ратифицировал Конвенцию ООН против киберпреступности",
			"Парламент Азербайджана одобрил ратификацию Конвенции ООН против киберпреступности, подписанной в Ханое. Документ вступит в силу после сороковой ратификации.", "ru"},
		{"French item of a Spanish source", "es",
			"La France signe la Convention des Nations unies contre la cybercriminalité",
			"Le ministre a signé à Hanoï la convention de l'ONU contre la cybercriminalité, qui doit encore être ratifiée par le Parlement avant son entrée en vigueur.", "fr"},
		{"English item of a French source", "fr",
			"States sign the UN Convention against Cybercrime in Hanoi",
			"Sixty states signed the UN Convention against Cybercrime in Hanoi; it enters into force after the fortieth ratification, and rights groups urge parliaments to look closely.", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Classify(fetch.Item{Lang: tt.hint, Title: tt.title, Content: tt.text})
			if !r.Relevant {
				t.Fatalf("not relevant: %+v", r.Evidence)
			}
			if r.Lang != tt.want {
				t.Errorf("lang = %q, want %q", r.Lang, tt.want)
			}
		})
	}
	// too short to tell: the hint stands
	d := newLangDetector()
	if got := d.detect(fetch.Item{Lang: "fr", Title: "ONU"}); got != "fr" {
		t.Errorf("short text: lang %q, want the hint fr", got)
	}
}

// TestActorFromSiteAndByline: who speaks is found from the item, not only
// from the source config: the by-line, or the site the article is on.
func TestActorFromSiteAndByline(t *testing.T) {
	e := engine(t)
	body := "Governments should not ratify the UN Convention against Cybercrime without strong human rights safeguards in their implementing laws."
	tests := []struct {
		name string
		it   fetch.Item
		want string
	}{
		{"article on the NGO's site", fetch.Item{SourceName: "Rights aggregator", URL: "https://www.hrw.org/news/2026/01/20/x", Title: "UN cybercrime treaty", Content: body}, "Human Rights Watch"},
		{"subdomain of the NGO's site", fetch.Item{SourceName: "Rights aggregator", URL: "https://act.eff.org/x", Title: "UN cybercrime treaty", Content: body}, "Electronic Frontier Foundation"},
		{"by-line", fetch.Item{SourceName: "Rights aggregator", Author: "Access Now", URL: "https://example.org/x", Title: "UN cybercrime treaty", Content: body}, "Access Now"},
		{"a wire's site is no speaker", fetch.Item{SourceName: "Rights aggregator", URL: "https://www.reuters.com/x", Title: "UN cybercrime treaty", Content: body}, ""},
		{"a look-alike host is not the NGO", fetch.Item{SourceName: "Rights aggregator", URL: "https://nothrw.org/x", Title: "UN cybercrime treaty", Content: body}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Classify(tt.it)
			if !r.Relevant {
				t.Fatalf("not relevant: %+v", r.Evidence)
			}
			if r.Actor != tt.want {
				t.Errorf("actor %q, want %q", r.Actor, tt.want)
			}
		})
	}
}
