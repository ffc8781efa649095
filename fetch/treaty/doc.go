// Package treaty reads the status of a treaty from the UN Treaty
// Collection, the depositary's authoritative record: the XML document of
// its chapter entry (for the Convention against Cybercrime,
// MTDSG/Volume II/Chapter XVIII/XVIII-16.en.xml) lists one row per
// participant with the dates of signature and of ratification,
// acceptance, approval or accession.
//
// Each date becomes one event item ("Azerbaijan ratified ..."), keyed by
// participant and action, so the pipeline's dedupe turns a new row or a
// new date into exactly one new item. Headline verbs in the news are not
// trusted for this ("72 states ratify" reported signatures); the
// depositary's table is. Each event carries the status counts of the
// document it came from, toward the 40 instruments the treaty needs to
// enter into force.
package treaty
