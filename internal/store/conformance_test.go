package store_test

import (
	"path/filepath"
	"testing"

	"github.com/treatywatch/treatywatch/internal/pgtest"
	"github.com/treatywatch/treatywatch/internal/store/storetest"
)

func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "state.db")
	})
}

func TestConformancePostgres(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) string { return pgtest.NewDatabase(t) })
}
