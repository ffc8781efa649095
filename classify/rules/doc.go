// Package rules loads and validates classifier rule packs.
//
// A pack is YAML data with a version string and these sections:
// taxonomy (the topic ids with their display labels, in display order;
// optional, the embedded pack's when left out), settings (thresholds and
// weights), prefilter (word beginnings that any alias or cybercrime word
// starts with), aliases (names of the treaty and
// its bodies in EN/FR/ES/RU), gate (cybercrime, treaty and UN words for
// the second way into relevance), guards (near-misses: Budapest-only,
// other UN processes, national laws, incidents, other treaties, and name
// collisions that cancel other rules), topics (weighted terms for the
// taxonomy's ids), stance (cues with weights, and negators, contrast,
// concessive, hedge, reporting and first-person words) and actors (each
// of an ActorType).
//
// Terms match whole words after NFKC, case folding and removal of Latin
// diacritics; a trailing "*" makes the last word a prefix. The default
// pack is embedded (Default, decoded from default.gob, the validated
// default.yaml in gob: go generate writes it); Load reads a user's own. Load rejects a
// broken pack with a *LoadError naming file, line and reason: bad YAML,
// unknown topic id, a taxonomy topic without a label or defined twice,
// empty alias list, duplicate rule id, a term that can never match, a
// term the prefilter does not cover.
package rules
