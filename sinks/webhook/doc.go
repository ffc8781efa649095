// Package webhook is a sink that POSTs each labelled record, as one JSON
// sinks.Envelope, to a URL.
//
// Every request carries:
//
//	Content-Type: application/json
//	User-Agent: treatywatch (+https://github.com/treatywatch/treatywatch)
//	X-Treatywatch-Event-Id: <event_id>       (also in the body)
//	X-Treatywatch-Event-Type: item.labelled  (or ping)
//	X-Treatywatch-Timestamp: <unix seconds>
//	X-Treatywatch-Signature: sha256=<hex>    (when a secret is set)
//
// The signature is the hex HMAC-SHA256, keyed with the shared secret, of
// the timestamp header, a dot, and the exact body bytes:
// HMAC(secret, timestamp + "." + body). Covering the timestamp lets a
// receiver refuse replays older than a few minutes; Verify does both
// checks.
//
// Delivery is at least once. A status of 2xx is a delivery; anything
// else, a redirect included, is an error that names the sink, the URL,
// the event and the status, and the record stays queued in the outbox.
// A 429 or 503 with Retry-After (seconds or an HTTP date, capped at one
// hour) returns a *sinks.RetryError. A request that hangs past the
// timeout (10 s by default) is an error. A batch stops at its first
// failure and is offered again whole, so receivers must drop event ids
// they have already taken.
//
// Check sends a signed ping, {"schema_version":1,"event_type":"ping",
// "event_id":"ping-…","sink":"…","sent":"…"}, and expects a 2xx.
// Receivers should answer it and store nothing.
package webhook
