// Package digest is the scheduled email digest sink: at the times of its
// own cron spec, in its own IANA time zone, it turns every record queued
// for it since the last digest into one message and sends it through a
// Transport.
//
// # Schedule and delivery
//
// Sink implements sinks.Scheduled. The outbox calls Next(last send) to
// learn when the next digest is due and then WriteWindow with the
// window's records, also when there are none. Write is not used: it
// returns ErrWindowOnly so that every message belongs to a window.
//
// Each digest has a stable id, a hash of the sink name, the window end
// and the recipients. WriteWindow keeps its state in sinks.State under
// "digest/<name>/…":
//
//   - msg/<id>: the rendered Message (and its Stats), stored before the
//     first send attempt. A retry sends exactly this message, never a new
//     rendering, so one window can never produce two different digests.
//   - sent/<id>: set after the transport accepted the message; WriteWindow
//     then does nothing for that window.
//   - stats: the Stats of the last digest sent, for the next one's deltas.
//
// A crash after the transport accepted a message but before sent/<id> was
// stored re-sends the same stored message: same ID, same Message-ID, same
// Idempotency-Key (generic webhook), so receivers can drop it. Delivery is
// at-least-once, like every sink.
//
// An empty window is skipped (Empty "skip", the default: marked done,
// nothing sent) or announced with a short "nothing new" message (Empty
// "notify").
//
// # Rendering
//
// Render builds a Data value and executes three templates: HTML
// (html/template; the built-in one is email-safe: tables, inline CSS,
// 680 px wide), plain text (text/template) and Slack mrkdwn (built-in
// only). Users may replace the HTML and text templates; they get the same
// Data (see its field docs) and the functions join, upper, lower, mrkdwn,
// mrkdwnLink and stanceEmoji. BuiltinHTML and BuiltinText return the
// built-in sources as a starting point.
//
// The digest has a subject with counts ("treatywatch digest 2026-11-23:
// 12 items, 5 critical, 3 supportive"), a stance summary, one section per
// topic in taxonomy order (an item with several topics is listed in each,
// with "Also in"), the top PerTopic items of each by score with "and N
// more", what changed since the previous digest (volume per topic, spikes,
// new actors), the sources failing or blocked (from sinks.Health), and
// counts of signature and ratification mentions next to the depositary's
// own status when a treaty status source reported in the window (items
// carrying a fetch.TreatyEvent).
//
// # Transports
//
// Webhook posts the JSON body of an email or chat API: generic
// ({id, subject, html, text, to, from, date, items} with an
// Idempotency-Key header), Postmark (POST /email, X-Postmark-Server-Token),
// SendGrid v3 (/v3/mail/send, Bearer key) and Slack (Block Kit within
// Slack's limits: text fields are truncated, the JSON never is). SMTP
// sends a multipart/alternative mail with net/smtp, with STARTTLS or
// implicit TLS and AUTH PLAIN.
package digest
