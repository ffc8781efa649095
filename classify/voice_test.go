package classify

import (
	"testing"

	"github.com/treatywatch/treatywatch/fetch"
)

// features returns the non-zero features of an item by name.
func features(t *testing.T, e *Engine, it fetch.Item) map[string]float64 {
	t.Helper()
	z := e.pool.get()
	defer e.pool.put(z)
	fs := e.scan(z, it)
	e.extract(fs, it, &z.v)
	out := map[string]float64{}
	for i, x := range z.v.x {
		if x != 0 {
			out[e.fs.names[i]] = x
		}
	}
	return out
}

// kindCase is one failure kind in one language: the features that must
// fire (and must not) for the fit to see the item as an expert does.
type kindCase struct {
	kind, lang string
	it         fetch.Item
	want, not  []string
}

// TestFailureKindsByLanguage covers each kind of error the classifier
// made on unseen items, in each language where it occurs: the item's own
// voice against a headline relaying others' concern, celebration in
// state media, a government's own signing statement, normative critique,
// calls to ratify and not to, and negation. The texts are written for the
// test.
func TestFailureKindsByLanguage(t *testing.T) {
	e := engine(t)
	cases := []kindCase{
		// a headline that relays someone else's concern is reported speech;
		// the same words in the outlet's own voice are not
		{kind: "reported concern in a headline", lang: "en",
			it:   fetch.Item{SourceName: "Example Wire", Title: "Rights groups warn UN cybercrime treaty threatens privacy", Content: "The UN Convention against Cybercrime opens for signature in Hanoi this week."},
			want: []string{"critical|reported"}, not: []string{"critical|title"}},
		{kind: "own voice in a headline", lang: "en",
			it:   fetch.Item{SourceName: "Example Blog", Title: "The UN cybercrime treaty threatens privacy", Content: "The UN Convention against Cybercrime opens for signature in Hanoi this week."},
			want: []string{"critical|title"}, not: []string{"critical|reported"}},
		{kind: "reported concern in a headline", lang: "fr",
			it:   fetch.Item{SourceName: "Dépêche", Title: "Convention de Hanoï : critiquée par les ONG pour ses menaces sur la vie privée", Content: "La Convention des Nations unies contre la cybercriminalité sera signée à Hanoï."},
			want: []string{"critical|reported"}, not: []string{"critical|title"}},
		{kind: "reported concern in a headline", lang: "es",
			it:   fetch.Item{SourceName: "Agencia", Title: "60 países firman tratado de la ONU contra la ciberdelincuencia criticado por su amenaza a la privacidad", Content: "La Convención de las Naciones Unidas contra la Ciberdelincuencia fue firmada en Hanói."},
			want: []string{"critical|reported"}, not: []string{"critical|title"}},
		{kind: "reported concern in a headline", lang: "ru",
			it:   fetch.Item{SourceName: "Новости", Title: "Правозащитники заявили об угрозе Конвенции ООН против киберпреступности", Content: "Конвенция ООН против киберпреступности была подписана в Ханое."},
			want: []string{"critical|reported"}, not: []string{"critical|title"}},
		{kind: "concern in a despite clause", lang: "en",
			it:   fetch.Item{SourceName: "Example Wire", Title: "UN cybercrime pact to be signed despite rights concerns", Content: "The UN Convention against Cybercrime will be signed in Hanoi."},
			want: []string{"critical|hedged"}, not: []string{"critical|title"}},
		{kind: "concern in a despite clause", lang: "es",
			it:   fetch.Item{SourceName: "Agencia", Title: "Firman la Convención de Hanói pese a las preocupaciones", Content: "La Convención de las Naciones Unidas contra la Ciberdelincuencia fue firmada."},
			want: []string{"critical|hedged"}, not: []string{"critical|title"}},
		{kind: "concern in a despite clause", lang: "fr",
			it:   fetch.Item{SourceName: "Dépêche", Title: "La Convention de Hanoï signée malgré les inquiétudes", Content: "La Convention des Nations unies contre la cybercriminalité a été signée."},
			want: []string{"critical|hedged"}, not: []string{"critical|title"}},
		{kind: "concern in a despite clause", lang: "ru",
			it:   fetch.Item{SourceName: "Новости", Title: "Ханойская конвенция подписана несмотря на обеспокоенность", Content: "Конвенция ООН против киберпреступности подписана в Ханое."},
			want: []string{"critical|hedged"}, not: []string{"critical|title"}},

		// state media celebrating in their own narration
		{kind: "celebration in state media", lang: "en",
			it:   fetch.Item{SourceName: "VietnamPlus", Title: "Hanoi Convention a landmark for global cybersecurity", Content: "The UN Convention against Cybercrime is a historic milestone and a victory for multilateralism."},
			want: []string{"cue.sup.celebrate", "supportive|own", "source.actor.press.state"}},
		{kind: "celebration in state media", lang: "fr",
			it:   fetch.Item{SourceName: "Le Courrier du Vietnam", Title: "Convention de Hanoï : une étape historique", Content: "La Convention des Nations unies contre la cybercriminalité marque un succès du multilatéralisme pour un cyberespace plus sûr."},
			want: []string{"cue.sup.celebrate", "cue.sup.tool", "supportive|own", "source.actor.press.state"}},
		{kind: "celebration in state media", lang: "es",
			it:   fetch.Item{SourceName: "Agencia Vietnamita de Noticias", Title: "Convención de Hanói, un hito histórico", Content: "La Convención de las Naciones Unidas contra la Ciberdelincuencia es un logro del multilateralismo y una herramienta fundamental."},
			want: []string{"cue.sup.celebrate", "cue.sup.tool", "supportive|own", "source.actor.press.state"}},
		{kind: "celebration in state media", lang: "ru",
			it:   fetch.Item{SourceName: "ТАСС", Title: "Ханойская конвенция стала историческим успехом", Content: "Конвенция ООН против киберпреступности стала историческим достижением многосторонней дипломатии."},
			want: []string{"cue.sup.celebrate", "supportive|own", "source.actor.press.state"}},

		// a government's own statement on signing: the issuer speaks, with
		// its known position and the basis for it
		{kind: "government's signing statement", lang: "en",
			it:   fetch.Item{SourceName: "Treaty site", Title: "Statement by Australia on signing the UN Convention against Cybercrime", Content: "Australia is proud to sign the Convention. We call on all States to sign and ratify it."},
			want: []string{"statement", "speaker.state", "position.supportive", "cue.sup.call", "cue.sup.celebrate"}},
		{kind: "government's signing statement", lang: "fr",
			it:   fetch.Item{SourceName: "Site de la cérémonie", Title: "Déclaration de la France à la signature de la Convention des Nations unies contre la cybercriminalité", Content: "La France se félicite de signer la Convention et appelle tous les États à la signer et la ratifier rapidement."},
			want: []string{"statement", "speaker.state", "position.supportive", "cue.sup.call", "cue.sup.celebrate"}},
		{kind: "government's signing statement", lang: "es",
			it:   fetch.Item{SourceName: "Sitio de la ceremonia", Title: "Declaración de México en la firma de la Convención de las Naciones Unidas contra la Ciberdelincuencia", Content: "México celebra la firma de la Convención y exhorta a los Estados a firmar y ratificar la Convención."},
			want: []string{"statement", "speaker.state", "cue.sup.call", "cue.sup.celebrate"}},
		{kind: "government's signing statement", lang: "ru",
			it:   fetch.Item{SourceName: "Сайт церемонии", Title: "Заявление России о подписании Конвенции ООН против киберпреступности", Content: "Россия приветствует подписание Конвенции и призывает все государства подписать и ратифицировать её."},
			want: []string{"statement", "speaker.state", "position.supportive", "cue.sup.call", "cue.sup.celebrate"}},

		// normative critique: a modal of obligation next to rights,
		// safeguards or oversight
		{kind: "normative critique", lang: "en",
			it:   fetch.Item{SourceName: "Policy Institute", Title: "What the UN Convention against Cybercrime needs", Content: "States must adopt strong human rights safeguards before they implement the convention, and surveillance should be subject to independent oversight."},
			want: []string{"normative-demand|own", "critical|own"}},
		{kind: "normative critique", lang: "fr",
			it:   fetch.Item{SourceName: "Institut", Title: "Ce que la Convention des Nations unies contre la cybercriminalité exige", Content: "Les États doivent adopter des garanties solides des droits humains avant d'appliquer la convention."},
			want: []string{"normative-demand|own", "critical|own"}},
		{kind: "normative critique", lang: "es",
			it:   fetch.Item{SourceName: "Instituto", Title: "Lo que exige la Convención de las Naciones Unidas contra la Ciberdelincuencia", Content: "Los Estados deben adoptar salvaguardias sólidas de derechos humanos antes de aplicar la convención."},
			want: []string{"normative-demand|own", "critical|own"}},
		{kind: "normative critique", lang: "ru",
			it:   fetch.Item{SourceName: "Институт", Title: "Что требует Конвенция ООН против киберпреступности", Content: "Государства должны обеспечить гарантии прав человека до применения конвенции."},
			want: []string{"normative-demand|own", "critical|own"}},

		// calls to ratify, and not to
		{kind: "call to ratify", lang: "en",
			it:   fetch.Item{SourceName: "UN Secretary-General", Title: "UN Convention against Cybercrime", Content: "The Secretary-General urges all States to sign and ratify the Convention for its swift entry into force."},
			want: []string{"cue.sup.call"}},
		{kind: "call not to ratify", lang: "en",
			it:   fetch.Item{SourceName: "Rights desk", Title: "UN Convention against Cybercrime", Content: "We urge governments not to ratify the Convention and we ask them to refrain from signing it."},
			want: []string{"cue.crit.call"}},
		{kind: "call to ratify", lang: "fr",
			it:   fetch.Item{SourceName: "Desk", Title: "Convention de Hanoï", Content: "Le Viet Nam appelle tous les États à signer et ratifier rapidement la Convention de Hanoï."},
			want: []string{"cue.sup.call"}},
		{kind: "call not to ratify", lang: "fr",
			it:   fetch.Item{SourceName: "Desk", Title: "Convention de Hanoï", Content: "Nous demandons aux États de ne pas ratifier la Convention de Hanoï."},
			want: []string{"cue.crit.call"}},
		{kind: "call to ratify", lang: "es",
			it:   fetch.Item{SourceName: "Desk", Title: "Convención de Hanói", Content: "Vietnam insta a los países a firmar y ratificar cuanto antes la Convención de Hanói."},
			want: []string{"cue.sup.call"}},
		{kind: "call not to ratify", lang: "es",
			it:   fetch.Item{SourceName: "Desk", Title: "Convención de Hanói", Content: "Pedimos a los Estados no ratificar la Convención de Hanói."},
			want: []string{"cue.crit.call"}},
		{kind: "call to ratify", lang: "ru",
			it:   fetch.Item{SourceName: "Desk", Title: "Ханойская конвенция", Content: "Вьетнам призывает все государства подписать и ратифицировать Ханойскую конвенцию."},
			want: []string{"cue.sup.call"}},
		{kind: "call not to ratify", lang: "ru",
			it:   fetch.Item{SourceName: "Desk", Title: "Ханойская конвенция", Content: "Мы призываем государства не ратифицировать Ханойскую конвенцию."},
			want: []string{"cue.crit.call"}},

		// negation turns a word of praise into no praise
		{kind: "negation", lang: "en",
			it:   fetch.Item{SourceName: "Rights desk", Title: "UN Convention against Cybercrime", Content: "Far from a milestone, the convention is not a landmark for victims."},
			want: []string{"supportive|negated"}, not: []string{"supportive|own", "cue.sup.celebrate"}},
		{kind: "negation", lang: "fr",
			it:   fetch.Item{SourceName: "Desk", Title: "Convention de Hanoï", Content: "Loin d'être une étape historique, la Convention de Hanoï inquiète."},
			want: []string{"supportive|negated"}, not: []string{"supportive|own", "cue.sup.celebrate"}},
		{kind: "negation", lang: "es",
			it:   fetch.Item{SourceName: "Desk", Title: "Convención de Hanói", Content: "Lejos de ser un hito, la Convención de Hanói preocupa a los periodistas."},
			want: []string{"supportive|negated"}, not: []string{"supportive|own", "cue.sup.celebrate"}},
		{kind: "negation", lang: "ru",
			it:   fetch.Item{SourceName: "Desk", Title: "Ханойская конвенция", Content: "Ханойская конвенция не стала историческим успехом. Конвенция ООН против киберпреступности по-прежнему вызывает споры о слежке и правах человека."},
			want: []string{"supportive|negated"}, not: []string{"supportive|own", "cue.sup.celebrate"}},
	}
	for _, c := range cases {
		t.Run(c.kind+"/"+c.lang, func(t *testing.T) {
			c.it.Lang = c.lang
			f := features(t, e, c.it)
			for _, w := range c.want {
				if f[w] == 0 {
					t.Errorf("feature %s did not fire; features: %v", w, f)
				}
			}
			for _, n := range c.not {
				if f[n] != 0 {
					t.Errorf("feature %s fired; features: %v", n, f)
				}
			}
			if r := e.Classify(c.it); !r.Relevant {
				t.Errorf("not relevant: %+v", r.Evidence)
			}
		})
	}
}
