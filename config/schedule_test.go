package config

import "testing"

// TestScheduleAndBackoffRejectedAtLoad: intervals cron would run every
// second and a backoff that is not positive are refused at load, with
// the file and line.
func TestScheduleAndBackoffRejectedAtLoad(t *testing.T) {
	const sink = "sinks: [{name: f, type: file}]\n"
	tests := []struct {
		name, doc, want string
	}{
		{"@every 0s", "sources:\n  - id: a\n    url: https://a.example/feed\n    schedule: '@every 0s'\n" + sink,
			`x.yaml:4: sources[0].schedule: bad cron spec "@every 0s": interval 0s is not positive`},
		{"@every -5m", "defaults:\n  schedule: '@every -5m'\nsources: [{id: a, url: 'https://a.example/feed'}]\n" + sink,
			`x.yaml:2: defaults.schedule: bad cron spec "@every -5m": interval -5m0s is not positive`},
		{"negative backoff", "defaults:\n  backoff: -1m\nsources: [{id: a, url: 'https://a.example/feed'}]\n" + sink,
			`x.yaml:2: defaults.backoff: must be positive, got -1m0s`},
		{"zero backoff cap", "defaults:\n  backoff_max: 0s\nsources: [{id: a, url: 'https://a.example/feed'}]\n" + sink,
			`x.yaml:2: defaults.backoff_max: must be positive, got 0s`},
		{"cap below the backoff", "defaults:\n  backoff: 1h\n  backoff_max: 5m\nsources: [{id: a, url: 'https://a.example/feed'}]\n" + sink,
			`x.yaml:3: defaults.backoff_max: 5m0s is below the backoff 1h0m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("x.yaml", []byte(tt.doc), testEnv)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
	cfg, err := parse("x.yaml", []byte("defaults: {backoff: 30s, backoff_max: 1h}\nsources: [{id: a, url: 'https://a.example/feed'}]\n"+sink), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if b := cfg.Defaults.SourceBackoff(); b.Base.String() != "30s" || b.Cap.String() != "1h0m0s" {
		t.Errorf("backoff = %+v", b)
	}
}
