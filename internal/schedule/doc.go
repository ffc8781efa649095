// Package schedule is the one place that reads schedules and decides
// when things run: cron specs (five fields or descriptors such as
// "@every 30m" and "@daily") for config validation, the daemon, the
// digest and the check command; the per-source spread that keeps sources
// sharing a schedule apart; the backoff after failed runs; and NextRun,
// the time a source runs next, which the daemon honours, the logs print
// and check shows.
package schedule
