package main

import (
	"fmt"
	"os"

	"github.com/treatywatch/treatywatch/classify/rules"
	"github.com/treatywatch/treatywatch/config"
)

// topicsOf is the taxonomy of the config's rule pack (the embedded pack's
// when the config names none): the digest's sections and the dashboard's
// topics follow it, so a topic a pack adds or renames shows there. Only
// the taxonomy is read; the classifier loads the pack itself.
func topicsOf(cfg *config.Config) (rules.Taxonomy, error) {
	if cfg.Classify.Rules == "" {
		return rules.DefaultTaxonomy(), nil
	}
	data, err := os.ReadFile(cfg.Classify.Rules)
	if err != nil {
		return nil, fmt.Errorf("rule pack: %w", err)
	}
	return rules.ReadTaxonomy(cfg.Classify.Rules, data)
}
