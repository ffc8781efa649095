// Package testenv lets tests ask for what lives outside Go (a browser, a
// mail catcher): on a developer's machine a missing program skips the
// test with a message saying how to get it; under CI=true, where
// scripts/test installs everything, it fails the test instead, so a
// missing install step cannot turn into a quiet skip.
package testenv
