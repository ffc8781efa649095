// Package dateparser stands in for github.com/markusmobius/go-dateparser
// in treatywatch's build (see the replace directive in the main go.mod).
//
// go-trafilatura imports go-htmldate, which imports go-dateparser for its
// "extensive" date search. That library builds its locale tables for
// some 200 languages in package initialisation: 0.15-0.6 s of CPU and
// 78 MB of allocation in every process that links it, so even
// `treatywatch version` paid for it. treatywatch runs go-trafilatura with
// HtmlDateMode Disabled (publication dates come from the feeds and from
// fetch/page), so go-htmldate's extensive search is never reached.
//
// This package keeps the part of the API go-htmldate compiles against
// (Parser, ParserType, Configuration, PreferredDateSource, Date) and
// answers with a small English/ISO parser over fixed layouts. It has no
// package-level state that costs anything to build.
package dateparser
