package digest

import (
	_ "embed"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/treatywatch/treatywatch/classify"
)

var (
	//go:embed templates/digest.html.tmpl
	builtinHTML string
	//go:embed templates/digest.txt.tmpl
	builtinText string
	//go:embed templates/digest.mrkdwn.tmpl
	builtinMrkdwn string
)

// BuiltinHTML and BuiltinText return the built-in templates, a starting
// point for user templates.
func BuiltinHTML() string { return builtinHTML }

// BuiltinText returns the built-in plain-text template.
func BuiltinText() string { return builtinText }

// funcs are available to every template: join, upper, lower, plus (for
// Slack) mrkdwn, mrkdwnLink and stanceEmoji.
func funcs() map[string]any {
	return map[string]any{
		"join":        strings.Join,
		"upper":       strings.ToUpper,
		"lower":       strings.ToLower,
		"mrkdwn":      escapeMrkdwn,
		"mrkdwnLink":  func(s string) string { return strings.ReplaceAll(escapeMrkdwn(s), "|", "¦") },
		"stanceEmoji": stanceEmoji,
	}
}

func parseHTML(src string) (*htmltemplate.Template, error) {
	if strings.TrimSpace(src) == "" {
		src = builtinHTML
	}
	return htmltemplate.New("html").Funcs(funcs()).Option("missingkey=error").Parse(src)
}

func parseText(name, src, builtin string) (*texttemplate.Template, error) {
	if strings.TrimSpace(src) == "" {
		src = builtin
	}
	return texttemplate.New(name).Funcs(funcs()).Option("missingkey=error").Parse(src)
}

// escapeMrkdwn escapes the three characters Slack's mrkdwn reserves.
func escapeMrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func stanceEmoji(stance string) string {
	switch classify.Stance(stance) {
	case classify.StanceCritical:
		return ":red_circle:"
	case classify.StanceSupportive:
		return ":large_green_circle:"
	case classify.StanceMixed:
		return ":large_orange_circle:"
	case classify.StanceNeutral:
		return ":white_circle:"
	}
	return ":black_small_square:"
}
