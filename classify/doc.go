// Package classify decides whether an item is about the UN Convention
// against Cybercrime and, when it is, tags its topics, its stance toward
// the treaty and the actor speaking, keeping the evidence for each
// decision.
//
// Rules are data (see classify/rules) compiled once by New into a single
// token-level trie: every word of an item is looked up once in a hash
// table and the trie yields every term of every rule in one pass. A
// prefilter skips the scan of items in which no word starts like an
// alias or a cybercrime word. Classify is pure and safe for concurrent
// use.
//
// Relevance is the weighted sum of alias hits and gate sentences (a
// cybercrime word with a treaty word, and a UN word in the item) minus
// the penalties of near-miss guards. Topics need a weighted number of
// sentences. Stance sums cue weights after negation ("rather than", "far
// from"), contrast ("but", "however"), concession ("although"), hedges
// ("despite", "amid") and attribution: a cue in quotes or in a sentence
// with a reporting verb counts little, unless the item is the speaker's
// own statement (the source's actor, or a first-person text).
//
// Evaluate scores a Classifier on labelled items (relevance P/R/F1, topic
// micro/macro-F1 per topic, stance macro-F1 with a confusion matrix).
package classify
