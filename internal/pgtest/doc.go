// Package pgtest gives tests a fresh PostgreSQL database of their own on
// the server named by $TREATYWATCH_TEST_POSTGRES (scripts/test starts a
// throwaway cluster and sets it). Without the variable a test is skipped
// with a message, except under CI=true, where it fails: CI must not pass
// by skipping.
package pgtest
