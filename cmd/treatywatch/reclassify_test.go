package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/treatywatch/treatywatch/classify/rules"
)

// TestReclassifyAfterRuleChange stores labelled items, changes the rule
// pack (a relevance threshold no item reaches) and relabels: the dry run
// reports without writing, the real run reports the changes, and a third
// run finds nothing left to change.
func TestReclassifyAfterRuleChange(t *testing.T) {
	srv := serveFeed(t, treatyFeed(4))
	dir := t.TempDir()
	cfg := writeConfig(t, dir, []string{sourceYAML("desk", srv.URL+"/desk.rss")}, "")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"once", "--config", cfg, "--log-level", "error"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("once: %d\n%s", code, errOut.String())
	}
	relevant := strings.Fields(lineFor(out.String(), "desk"))[4]                // the RELEVANT column
	stored, _ := strconv.Atoi(strings.Fields(lineFor(out.String(), "desk"))[3]) // the NEW column
	nRelevant, _ := strconv.Atoi(relevant)

	pack := rules.DefaultYAML()
	// the fitted relevance head: a bias no item overcomes
	pack = regexp.MustCompile(`(?m)^(    relevance:\n        bias:).*$`).ReplaceAll(pack, []byte("${1} -1000"))
	pack = regexp.MustCompile(`(?m)^version:.*$`).ReplaceAll(pack, []byte(`version: "strict-test"`))
	packPath := filepath.Join(dir, "strict.yaml")
	if err := os.WriteFile(packPath, pack, 0o644); err != nil {
		t.Fatal(err)
	}
	conf, _ := os.ReadFile(cfg)
	cfg2 := filepath.Join(dir, "strict-config.yaml")
	os.WriteFile(cfg2, append(conf, []byte("classify:\n  rules: "+packPath+"\n")...), 0o644)

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--dry-run"}, "would change labels (relevance " + relevant + ": +0 relevant, -" + relevant},
		{nil, relevant + " changed labels (relevance " + relevant + ": +0 relevant, -" + relevant},
		{nil, "0 changed labels"},
	}
	for _, tt := range tests {
		out.Reset()
		args := append([]string{"reclassify", "--config", cfg2}, tt.args...)
		if code := run(ctx, args, nil, &out, &errOut); code != 0 {
			t.Fatalf("reclassify %v: %d\n%s", tt.args, code, errOut.String())
		}
		if !strings.Contains(out.String(), tt.want) || !strings.Contains(out.String(), "rules strict-test") {
			t.Errorf("reclassify %v said %q, want %q", tt.args, out.String(), tt.want)
		}
		if lean := stored - nRelevant; lean > 0 && !strings.Contains(out.String(), fmt.Sprintf("%d irrelevant items left as labelled", lean)) {
			t.Errorf("reclassify %v said %q, want the %d lean items counted", tt.args, out.String(), lean)
		}
	}
	if relevant == "0" {
		t.Fatal("no relevant item stored: the test shows nothing")
	}
}
