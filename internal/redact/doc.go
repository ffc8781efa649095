// Package redact hides credentials wherever treatywatch shows or stores
// text: the config printout, log records, error messages, check output
// and the errors kept in the database.
//
// Two tools work together. URL and Headers know where credentials sit in
// a URL (the password of the user info, query parameters named like a
// token or key, the secret path of chat webhooks) and in HTTP headers
// (Authorization, Cookie, anything naming a token, key or secret). A
// Scrubber is built from the secrets a config holds and replaces each of
// them, in any text, with "***": it catches a secret however a library
// happened to quote it in an error.
package redact
