// Package mailtest runs a real SMTP server for tests: the maildev mail
// catcher (installed by scripts/install-test-deps.sh), on free loopback
// ports, with its HTTP API to read back what arrived. When maildev is
// missing a test fails under CI=true and is skipped otherwise.
package mailtest
