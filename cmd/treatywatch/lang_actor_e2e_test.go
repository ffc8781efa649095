package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// langActorFeed is an English-language feed (its channel says en) that
// carries a Spanish and a Russian item, and an article on Human Rights
// Watch's site; the source config names no actor.
const langActorFeed = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>World cyber desk</title><link>https://desk.example.org/</link><language>en</language>
<item><title>Uruguay firmó la Convención de las Naciones Unidas contra la Ciberdelincuencia</title><link>https://desk.example.org/es/1</link><guid>es-1</guid>
<description>El gobierno de Uruguay firmó en Hanói la Convención de las Naciones Unidas contra la Ciberdelincuencia. El texto deberá ser ratificado por el parlamento antes de su entrada en vigor, y el gobierno espera fortalecer la cooperación internacional contra el delito informático.</description></item>
<item><title>Азербайджан ратифицировал Конвенцию ООН против киберпреступности</title><link>https://desk.example.org/ru/1</link><guid>ru-1</guid>
<description>Парламент Азербайджана одобрил ратификацию Конвенции ООН против киберпреступности, подписанной в Ханое. Документ вступит в силу после сороковой ратификации; страна стала одной из первых, кто завершил процедуру.</description></item>
<item><title>UN Cybercrime Treaty: Governments Should Not Ratify Without Safeguards</title><link>https://www.hrw.org/news/2026/01/20/un-cybercrime-treaty-governments-should-not-ratify</link><guid>hrw-1</guid>
<description>Governments should not ratify the UN Convention against Cybercrime unless they adopt strong human rights safeguards in their implementing laws. The treaty's broad surveillance powers and its cooperation regime for any serious crime put journalists, activists and security researchers at risk.</description></item>
</channel></rss>`

// TestLangAndActorOnRecords is the end-to-end check of per-item language
// and actor: records of an English-language source carry lang es and ru
// for its Spanish and Russian items, and the article on hrw.org carries
// its actor though the source config has no actor.
func TestLangAndActorOnRecords(t *testing.T) {
	srv := serveFeed(t, []byte(langActorFeed))
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", srv.URL+"/feed.rss")}, "")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"once", "--config", cfg, "--deliver-existing", "--log-level", "warn"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	recs := readJSONL(t, filepath.Join(dir, "items.jsonl"))
	got := map[string][2]string{} // guid -> lang, actor
	for _, e := range recs {
		if e.Source.Actor != "" {
			t.Errorf("source actor %q: the config names none", e.Source.Actor)
		}
		got[e.Item.Key] = [2]string{e.Item.Lang, e.Labels.Actor}
	}
	want := map[string][2]string{
		"es-1":  {"es", ""},
		"ru-1":  {"ru", ""},
		"hrw-1": {"en", "Human Rights Watch"},
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("no record for %s (records: %v)", k, got)
			continue
		}
		if g[0] != w[0] {
			t.Errorf("%s: lang %q, want %q", k, g[0], w[0])
		}
		if w[1] != "" && g[1] != w[1] {
			t.Errorf("%s: actor %q, want %q", k, g[1], w[1])
		}
	}
}
