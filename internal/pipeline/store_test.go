package pipeline

import "github.com/treatywatch/treatywatch/internal/store"

// The embedded store is the pipeline's store.
var _ Store = (*store.Store)(nil)
