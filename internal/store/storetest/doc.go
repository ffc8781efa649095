// Package storetest is the conformance suite every store backend passes:
// the same tests run on a real SQLite file and on a real PostgreSQL
// database, including several handles (as several instances would open)
// claiming the same work at once.
package storetest
