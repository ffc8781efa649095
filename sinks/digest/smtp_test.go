package digest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treatywatch/treatywatch/internal/mailtest"
	"github.com/treatywatch/treatywatch/sinks"
)

func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

type mimeParts struct {
	header     mail.Header
	subject    string
	text, html string
}

// parseMail reads a raw message the way a mail client would.
func parseMail(t *testing.T, raw []byte) mimeParts {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var p mimeParts
	p.header = msg.Header
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cp["charset"] != "utf-8" {
			t.Errorf("part %s charset %q", ct, cp["charset"])
		}
		types = append(types, ct)
		switch ct {
		case "text/plain":
			p.text = lf(string(b))
		case "text/html":
			p.html = lf(string(b))
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", types)
	}
	return p
}

func TestSMTPBuild(t *testing.T) {
	tr, err := NewSMTP(SMTPConfig{Host: "mail.example.org", From: "Traité Watch <digest@treatywatch.example>",
		To: []string{"a@example.org", "Bé <b@example.org>"}})
	if err != nil {
		t.Fatal(err)
	}
	m := Message{ID: "0123456789abcdef0123456789abcdef", Subject: "Überblick: 3 items — “critical”",
		Text: "Line one\nA very long line " + strings.Repeat("é", 200) + "\n.\n", HTML: "<p>Grüße =3D</p>",
		Date: time.Date(2026, 11, 23, 6, 0, 5, 0, time.UTC)}
	raw, err := tr.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := tr.Build(m)
	if !bytes.Equal(raw, again) {
		t.Error("Build is not deterministic")
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d octets", len(line))
		}
	}
	p := parseMail(t, raw)
	if p.subject != m.Subject || p.text != m.Text || p.html != m.HTML {
		t.Errorf("round trip: subject %q text %q html %q", p.subject, p.text, p.html)
	}
	if got := p.header.Get("Message-ID"); got != "<digest."+m.ID+"@treatywatch.example>" {
		t.Errorf("Message-ID %q", got)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(m.Date) {
		t.Errorf("Date %v %v", d, err)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "Bé" {
		t.Errorf("To %v %v", to, err)
	}
	if _, err := tr.Build(Message{ID: "x", Subject: "a\r\nBcc: evil@example.org"}); err == nil {
		t.Error("a subject with a line break was accepted")
	}
}

var reItemURL = regexp.MustCompile(`https://example\.org/[a-z0-9]+`)

// TestSMTPDigestThroughMaildev sends digests through the SMTP transport to
// a real SMTP server (maildev) and reads them back from its HTTP API.
func TestSMTPDigestThroughMaildev(t *testing.T) {
	md := mailtest.Start(t, "--incoming-user", "digest", "--incoming-pass", "s3cret")
	ctx := context.Background()
	cfg := SMTPConfig{Host: "127.0.0.1", Port: md.SMTPPort, Username: "digest", Password: "s3cret",
		From: "Treatywatch <digest@treatywatch.example>", To: []string{"analyst@example.org", "Desk <desk@example.org>"},
		Timeout: 20 * time.Second}
	hs := health{{ID: "eff", Name: "EFF Deeplinks", State: "blocked", Failures: 3, LastError: "403 challenge"}}
	newSink := func(st *fileState) (*Sink, *SMTP) {
		tr, err := NewSMTP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return newTestSink(t, tr, st, func(o *Options) { o.Health = hs }), tr
	}
	dir := t.TempDir()
	s, tr := newSink(&fileState{dir: dir})
	if err := tr.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	recs := windowRecords()
	if err := s.WriteWindow(ctx, window, recs); err != nil {
		t.Fatal(err)
	}

	ms := md.Mails(t)
	if len(ms) != 1 {
		t.Fatalf("maildev holds %d mails, want 1", len(ms))
	}
	got := ms[0]
	want, err := s.Render(window, recs, nil, hs)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "treatywatch digest 2026-11-23: 6 items, 2 critical, 1 supportive" {
		t.Errorf("subject %q", got.Subject)
	}
	var rcpts []string
	for _, a := range got.Envelope.To {
		rcpts = append(rcpts, a.Address)
	}
	slices.Sort(rcpts)
	if strings.Join(rcpts, ",") != "analyst@example.org,desk@example.org" {
		t.Errorf("envelope recipients %v", rcpts)
	}
	p := parseMail(t, md.Source(t, got.ID))
	if p.text != lf(want.Text) || p.html != lf(want.HTML) {
		t.Error("the parts that arrived differ from the rendered digest")
	}
	if p.header.Get("Message-ID") != MessageID(s.ID(winEnd), cfg.From) {
		t.Errorf("Message-ID %q", p.header.Get("Message-ID"))
	}
	// Both parts carry the grouped sections and the failing source.
	for _, part := range []string{p.text, p.html, lf(got.Text)} {
		for _, sec := range []string{"Human rights", "Privacy and surveillance", "International cooperation",
			"Security research", "Signature and ratification", "Untagged", "EFF Deeplinks"} {
			if !strings.Contains(strings.ToLower(part), strings.ToLower(sec)) {
				t.Errorf("a part lacks section %q", sec)
			}
		}
	}
	// Exactly the window's items: the links in the text part are those of
	// the six distinct records, no more, no fewer.
	links := slices.Compact(slices.Sorted(slices.Values(reItemURL.FindAllString(p.text, -1))))
	if strings.Join(links, " ") != "https://example.org/a1 https://example.org/a2 https://example.org/a3 https://example.org/a4 https://example.org/a5 https://example.org/a6" {
		t.Errorf("items in the mail: %v", links)
	}
	if n := strings.Count(p.text, "\n* ["); n != 8 { // six records, two of them under two topics
		t.Errorf("%d listed entries, want 8", n)
	}

	// Restart after a successful send: the same window is offered again
	// and nothing more is sent.
	s2, _ := newSink(&fileState{dir: dir})
	if err := s2.WriteWindow(ctx, window, recs); err != nil {
		t.Fatal(err)
	}
	if n := len(md.Mails(t)); n != 1 {
		t.Fatalf("after restart maildev holds %d mails, want 1", n)
	}

	// Killed between the SMTP transaction and the sent mark: the restart
	// re-sends the very same message (same Message-ID), and only once.
	next := sinks.Window{Start: winEnd, End: winEnd.Add(24 * time.Hour)}
	crashed, _ := newSink(&fileState{dir: dir, failPut: "/sent/"})
	if err := crashed.WriteWindow(ctx, next, recs[:3]); err == nil {
		t.Fatal("want the lost sent mark to fail the call")
	}
	s3, _ := newSink(&fileState{dir: dir})
	for range 2 {
		if err := s3.WriteWindow(ctx, next, recs[:3]); err != nil {
			t.Fatal(err)
		}
	}
	ms = md.Mails(t)
	if len(ms) != 3 {
		t.Fatalf("maildev holds %d mails, want 3", len(ms))
	}
	var copies []mimeParts
	for _, m := range ms {
		pm := parseMail(t, md.Source(t, m.ID))
		if pm.header.Get("Message-ID") == MessageID(s3.ID(next.End), cfg.From) {
			copies = append(copies, pm)
		}
	}
	if len(copies) != 2 || copies[0].html != copies[1].html || copies[0].subject != copies[1].subject ||
		copies[0].header.Get("Date") != copies[1].header.Get("Date") {
		t.Fatalf("crash re-send: %d copies with the digest's Message-ID, want 2 identical ones", len(copies))
	}
	if !strings.Contains(copies[0].text, "SINCE THE LAST DIGEST") {
		t.Error("the second digest shows no deltas")
	}

	// Wrong password and a required STARTTLS the server lacks both fail.
	bad := cfg
	bad.Password = "wrong"
	btr, _ := NewSMTP(bad)
	if err := btr.Send(ctx, want); err == nil {
		t.Error("send with a wrong password succeeded")
	}
	req := cfg
	req.TLS = TLSRequire
	rtr, _ := NewSMTP(req)
	if err := rtr.Check(ctx); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("require-STARTTLS check = %v", err)
	}
	if n := len(md.Mails(t)); n != 3 {
		t.Errorf("failed sends delivered mail: %d", n)
	}
}

// TestSMTPImplicitTLSThroughMaildev sends over SMTPS to maildev with a
// certificate made for the test.
func TestSMTPImplicitTLSThroughMaildev(t *testing.T) {
	mailtest.Bin(t)
	dir := t.TempDir()
	pool := writeCert(t, dir)
	md := mailtest.Start(t, "--incoming-secure", "--incoming-cert", filepath.Join(dir, "cert.pem"),
		"--incoming-key", filepath.Join(dir, "key.pem"), "--incoming-user", "u", "--incoming-pass", "p")
	tr, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: md.SMTPPort, TLS: TLSImplicit, TLSConfig: &tls.Config{RootCAs: pool},
		Username: "u", Password: "p", From: "digest@treatywatch.example", To: []string{"a@example.org"}, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := Message{ID: "feedfacefeedfacefeedfacefeedface", Subject: "TLS digest", Text: "plain", HTML: "<p>html</p>", Date: winEnd}
	if err := tr.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	ms := md.Mails(t)
	if len(ms) != 1 || ms[0].Subject != "TLS digest" {
		t.Fatalf("mails %+v", ms)
	}
	// Without the test CA the certificate is rejected.
	untrusted, _ := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: md.SMTPPort, TLS: TLSImplicit,
		From: "digest@treatywatch.example", To: []string{"a@example.org"}, Timeout: 20 * time.Second})
	if err := untrusted.Check(context.Background()); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
}

func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
