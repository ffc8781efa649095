// Package cputime reads the CPU time the process has used (user and
// system, all threads), so benchmarks can report a cost that is less
// disturbed than wall time by other work on a shared machine.
package cputime
