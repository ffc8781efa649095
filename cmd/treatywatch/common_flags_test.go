package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every command takes the common flags the usage and the README list:
// each runs with --config and --log-format json, and whatever it logs is
// JSON. classify uses the config's rule pack.
func TestEveryCommandTakesTheCommonFlags(t *testing.T) {
	srv := serveFeed(t, treatyFeed(3))
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", srv.URL+"/desk.rss")}, "")
	labelled := filepath.Join(dir, "items.jsonl")
	if err := os.WriteFile(labelled, []byte(`{"title":"States urged not to ratify the UN cybercrime convention","summary":"Rights groups say the treaty threatens privacy.","labels":{"relevant":true,"stance":"critical","topics":["human-rights"]}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd  string
		args []string
	}{
		{"once", []string{"--deliver-existing"}},
		{"run", nil},
		{"check", []string{"--offline"}},
		{"config", nil},
		{"classify", []string{labelled}},
		{"classify", []string{"--eval", labelled}},
		{"reclassify", nil},
		{"digest", []string{"--preview"}},
		{"backfill", []string{"--since", "2020-01-01", "--dry-run"}},
		{"seen", []string{"--source", "desk"}},
		{"opml", nil},
		{"store", nil}, // store check, of the database once wrote
		{"version", nil},
		{"serve", []string{"--listen", "127.0.0.1:0"}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+strings.Join(tt.args, ""), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if tt.cmd == "run" || tt.cmd == "serve" {
				ctx, cancel = context.WithTimeout(ctx, 3*time.Second) // the daemon stops when ctx ends
				defer cancel()
			}
			args := []string{tt.cmd}
			switch tt.cmd {
			case "opml":
				args = append(args, "export")
			case "store":
				args = append(args, "check")
			}
			args = append(args, "--config", cfg, "--log-format", "json", "--log-level", "debug")
			args = append(args, tt.args...)
			var out, errOut bytes.Buffer
			code := run(ctx, args, strings.NewReader(""), &out, &errOut)
			if code == 2 || strings.Contains(errOut.String(), "flag provided but not defined") {
				t.Fatalf("%v: exit %d, the flags were refused:\n%s", args, code, errOut.String())
			}
			for _, line := range strings.Split(errOut.String(), "\n") {
				if strings.HasPrefix(line, "{") && !json.Valid([]byte(line)) {
					t.Errorf("log line is not JSON: %s", line)
				}
				if strings.HasPrefix(line, "time=") {
					t.Errorf("text log line with --log-format json: %s", line)
				}
			}
		})
	}
}

// classify takes the config's classify.rules: a config pointing at a
// broken rule pack makes it fail, naming the file.
func TestClassifyUsesTheConfigsRules(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(bad, []byte("version: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\nclassify: {rules: rules.yaml}\nsources: [{id: a, url: https://example.org/feed}]\nsinks: [{name: out, type: file}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"classify", "--config", cfg, "--log-format", "json"}, strings.NewReader(`{"title":"x"}`+"\n"), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "rules.yaml") {
		t.Errorf("classify with the config's broken rules: exit %d, %s", code, errOut.String())
	}
}
