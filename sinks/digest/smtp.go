package digest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/treatywatch/treatywatch/sinks"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// SMTP TLS modes.
const (
	// TLSStartTLS upgrades with STARTTLS when the server offers it (the
	// default). Credentials are never sent in clear text to a host that
	// is not loopback (net/smtp refuses).
	TLSStartTLS = "starttls"
	// TLSRequire fails unless the server offers STARTTLS.
	TLSRequire = "require"
	// TLSImplicit connects with TLS from the start (SMTPS, port 465).
	TLSImplicit = "implicit"
	// TLSNone never uses TLS.
	TLSNone = "none"
)

// SMTPConfig configures the SMTP transport.
type SMTPConfig struct {
	Host string
	// Port defaults to 587, or 465 with TLSImplicit.
	Port int
	// Username enables AUTH PLAIN when set.
	Username, Password string
	// From and To are mail addresses ("Name <a@b.org>" allowed).
	From string
	To   []string
	// TLS is TLSStartTLS (default), TLSRequire, TLSImplicit or TLSNone.
	TLS string
	// TLSConfig overrides the TLS settings (e.g. RootCAs); ServerName
	// defaults to Host.
	TLSConfig *tls.Config
	// HelloName is the EHLO name; default "localhost".
	HelloName string
	// Timeout bounds one whole send; default 60 s.
	Timeout time.Duration
	// MaxBytes bounds the whole message: the HTML part, then the text
	// part are cut to fit. Zero means no budget.
	MaxBytes int
}

// SMTP sends a digest as a MIME multipart/alternative mail.
type SMTP struct {
	cfg  SMTPConfig
	from *mail.Address
	to   []*mail.Address
}

var (
	_ Transport = (*SMTP)(nil)
	_ Addressed = (*SMTP)(nil)
)

// NewSMTP checks cfg and returns the transport.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("digest smtp: host is required")
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSStartTLS
	case TLSStartTLS, TLSRequire, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("digest smtp: tls %q: want starttls, require, implicit or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == TLSImplicit {
			cfg.Port = 465
		}
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	s := &SMTP{cfg: cfg}
	var err error
	if s.from, err = mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("digest smtp: from %q: %w", cfg.From, err)
	}
	for _, t := range cfg.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("digest smtp: to %q: %w", t, err)
		}
		s.to = append(s.to, a)
	}
	if len(s.to) == 0 {
		return nil, fmt.Errorf("digest smtp: %w", errNoRecipients)
	}
	return s, nil
}

// Recipients returns the To addresses.
func (s *SMTP) Recipients() []string {
	out := make([]string, len(s.to))
	for i, a := range s.to {
		out[i] = a.Address
	}
	return out
}

func (s *SMTP) addr() string { return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) }

func (s *SMTP) tlsConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.cfg.TLSConfig != nil {
		c = s.cfg.TLSConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = s.cfg.Host
	}
	return c
}

// dial connects, says EHLO, upgrades to TLS and authenticates as
// configured. The connection is closed when ctx ends.
func (s *SMTP) dial(ctx context.Context) (*smtp.Client, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	var conn net.Conn
	var err error
	if s.cfg.TLS == TLSImplicit {
		d := &tls.Dialer{Config: s.tlsConfig()}
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	}
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("digest smtp: dial %s: %w", s.addr(), err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	done := func() { stop(); cancel(); conn.Close() }
	fail := func(step string, err error) (*smtp.Client, func(), error) {
		done()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return nil, nil, fmt.Errorf("digest smtp: %s %s: %w", step, s.addr(), err)
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fail("greeting", err)
	}
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return fail("ehlo", err)
	}
	if s.cfg.TLS == TLSStartTLS || s.cfg.TLS == TLSRequire {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fail("starttls", err)
			}
		} else if s.cfg.TLS == TLSRequire {
			return fail("starttls", errors.New("server does not offer STARTTLS"))
		}
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail("auth", errors.New("server does not offer AUTH"))
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fail("auth", err)
		}
	}
	return c, done, nil
}

// Encode is Build within the budget: the HTML part, then the text part
// are cut until the whole message fits MaxBytes.
func (s *SMTP) Encode(m Message) ([]byte, error) {
	var raw []byte
	size := func() (int, error) {
		var err error
		raw, err = s.Build(m)
		return len(raw), err
	}
	if s.cfg.MaxBytes <= 0 {
		_, err := size()
		return raw, err
	}
	if err := sinks.Fit(s.cfg.MaxBytes, size, sinks.Field{Text: &m.HTML, HTML: true}, sinks.Field{Text: &m.Text}); err != nil {
		return nil, fmt.Errorf("digest smtp: digest %s: %w", m.ID, err)
	}
	return raw, nil
}

// Send delivers m to every recipient in one transaction.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	raw, err := s.Encode(m)
	if err != nil {
		return err
	}
	c, done, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("digest smtp: mail from: %w", err)
	}
	for _, a := range s.to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("digest smtp: rcpt to %s: %w", a.Address, err)
		}
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("digest smtp: data: %w", err)
	}
	if _, err := wc.Write(raw); err != nil {
		return fmt.Errorf("digest smtp: data: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("digest smtp: data: %w", err)
	}
	// The message was accepted at the end of DATA; a failed QUIT does not
	// undo that.
	_ = c.Quit()
	return nil
}

// Check connects, greets, upgrades and authenticates as Send would, then
// quits without sending.
func (s *SMTP) Check(ctx context.Context) error {
	c, done, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := c.Quit(); err != nil {
		return fmt.Errorf("digest smtp: quit: %w", err)
	}
	return nil
}

// MessageID returns the Message-ID header value for a digest id, with
// the domain of from.
func MessageID(id, from string) string {
	domain := "treatywatch.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i+1 < len(a.Address) {
			domain = a.Address[i+1:]
		}
	}
	return "<digest." + id + "@" + domain + ">"
}

// Build returns the RFC 5322 message for m: multipart/alternative with a
// text/plain and a text/html part, both UTF-8 and quoted-printable, a
// Q-encoded subject, Date from m.Date and a Message-ID derived from
// m.ID. The same m always gives the same bytes.
func (s *SMTP) Build(m Message) ([]byte, error) {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("digest smtp: subject contains a line break")
	}
	var buf bytes.Buffer
	to := make([]string, len(s.to))
	for i, a := range s.to {
		to[i] = a.String()
	}
	date := m.Date
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	// "=_" never occurs in quoted-printable output, so the boundary
	// cannot clash with a body.
	boundary := "=_tw_" + m.ID
	if len(boundary) > 69 {
		boundary = boundary[:69]
	}
	hdr := []struct{ k, v string }{
		{"From", s.from.String()},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Date", date.Format(time.RFC1123Z)},
		{"Message-ID", MessageID(m.ID, s.from.Address)},
		{"MIME-Version", "1.0"},
		{"X-Treatywatch-Digest-ID", m.ID},
		{"Auto-Submitted", "auto-generated"},
		{"Content-Type", `multipart/alternative; boundary="` + boundary + `"`},
	}
	for _, h := range hdr {
		fmt.Fprintf(&buf, "%s: %s\r\n", h.k, h.v)
	}
	buf.WriteString("\r\n")
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("digest smtp: boundary: %w", err)
	}
	for _, p := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("digest smtp: part: %w", err)
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(p.body)); err != nil {
			return nil, fmt.Errorf("digest smtp: encode part: %w", err)
		}
		if err := qw.Close(); err != nil {
			return nil, fmt.Errorf("digest smtp: encode part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("digest smtp: close multipart: %w", err)
	}
	return buf.Bytes(), nil
}
