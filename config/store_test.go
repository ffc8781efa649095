package config

import (
	"strings"
	"testing"
	"time"
)

func TestStoreSection(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "TREATYWATCH_PG" {
			return "postgres://tw:s3cret@db.internal:5432/treatywatch", true
		}
		return "", false
	}
	const base = "data_dir: /var/lib/tw\nsources:\n  - id: eff\n    url: https://www.eff.org/rss/updates.xml\nsinks:\n  - name: jsonl\n    type: file\n"
	tests := []struct {
		name      string
		store     string
		wantErr   string // substring; empty: valid
		wantDSN   string
		wantLease time.Duration
	}{
		{"default is an SQLite file in data_dir", "", "", "/var/lib/tw/treatywatch.db", time.Minute},
		{"postgres from the environment", "store: {driver: postgres, dsn: '${TREATYWATCH_PG}', lease: 20s}\n", "", "postgres://tw:s3cret@db.internal:5432/treatywatch", 20 * time.Second},
		{"sqlite path relative to the config", "store: {driver: sqlite, dsn: state/tw.db}\n", "", "/etc/tw/state/tw.db", time.Minute},
		{"postgres without a dsn", "store: {driver: postgres}\n", "store.dsn: required for driver postgres", "", 0},
		{"postgres with a path", "store: {driver: postgres, dsn: /tmp/x.db}\n", `store.dsn: want a postgres:// URL`, "", 0},
		{"a URL for sqlite", "store: {dsn: 'postgres://h/db'}\n", "set driver: postgres", "", 0},
		{"unknown driver", "store: {driver: mysql}\n", `unknown driver "mysql"`, "", 0},
		{"lease too short", "store: {lease: 100ms}\n", "store.lease: 100ms is too short", "", 0},
		{"unknown key", "store: {drvier: postgres}\n", "drvier", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse("/etc/tw/config.yaml", []byte(base+tt.store), env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Store.DSN != tt.wantDSN || cfg.Store.Lease.D() != tt.wantLease {
				t.Errorf("store = %+v, want dsn %q lease %s", cfg.Store, tt.wantDSN, tt.wantLease)
			}
			if red := cfg.redacted(); strings.Contains(red.Store.DSN, "s3cret") {
				t.Errorf("redacted config keeps the password: %q", red.Store.DSN)
			}
		})
	}
}
