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
// The pack holds the vocabulary (aliases, gate words, guards, topic terms,
// stance cue families, actors with their sites and known positions); its
// model section holds fitted weights. The engine turns the hits of an item
// into named features: a rule seen in the title, the body, a sentence
// about the treaty; a cue family in a voice (the item's own narration,
// its headline, reported speech, negated, hedged by despite/although);
// the speaker's type and known position in its own statement; the source
// outlet. Logistic heads score relevance and each topic, a softmax the
// stance. Fit learns the weights from labelled items (ridge-regularised,
// sign-constrained, deterministic); CrossValidate measures them on items
// of sources the fit never saw. A pack without a model is scored with its
// rule weights as written. The item's language is detected from its own
// words (the source's is a hint) for relevant items.
//
// Evaluate scores a Classifier on labelled items (relevance P/R/F1, topic
// micro/macro-F1 per topic, stance macro-F1 with a confusion matrix), also
// per language.
package classify
