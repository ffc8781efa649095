// Package config reads the treatywatch configuration file.
//
// A config is YAML (see default.yaml, embedded in the binary and returned by
// Default). Parse works in three steps:
//
//  1. Strict decoding: the YAML node tree is walked into the structs of this
//     package; an unknown key, a duplicate key or a value of the wrong type
//     is an error. ${NAME} in any string value is replaced by the
//     environment variable NAME (unset is an error; $${ is a literal ${).
//  2. Defaults: every unset field gets the value its comment names; the
//     data directory and relative paths are resolved.
//  3. Validation: cron specs (robfig/cron/v3, five fields or descriptors),
//     IANA time zones, absolute http(s) URLs, unique source ids and sink
//     names, enum values, required fields, CSS selectors (compiled with
//     cascadia, because goquery silently matches nothing on a bad one),
//     durations, sizes, proxies and CIDRs.
//
// All problems are reported at once (errors.Join of *Error values), each
// naming the file, the line and the field:
//
//	config.yaml:12: sources[3].schedule: bad cron spec "*/61 * * * *": ...
//
// List indexes in field paths count from 0. Sources keep their own settings
// as overrides: Source.Effective and Source.FetchSource combine them with
// Config.Defaults. Config.Marshal prints the effective config with secrets
// redacted. Only cmd/treatywatch imports this package.
package config
