// Package classify decides whether an item is about the UN Convention
// against Cybercrime and, when it is, tags its topics, its stance toward
// the treaty and the actor speaking, keeping the evidence for each
// decision.
//
// Rules are data (see classify/rules) compiled once at load into a single
// multi-pattern matcher; Classify is pure and safe for concurrent use.
package classify
