package digest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// tlsSMTPServer is a small SMTP server for the tests, on loopback: it
// offers STARTTLS with a certificate made for the test and AUTH PLAIN
// only once the connection is encrypted, as a submission server does.
// It records what each session did, in order.
type tlsSMTPServer struct {
	t        *testing.T
	ln       net.Listener
	cfg      *tls.Config
	noTLS    bool // do not offer STARTTLS
	user     string
	pass     string
	mu       sync.Mutex
	sessions []*smtpSession
	wg       sync.WaitGroup
}

// smtpSession is what one connection did.
type smtpSession struct {
	Commands  []string // verbs in order, "STARTTLS" included
	TLS       bool     // the connection was upgraded
	AuthUser  string   // who authenticated ("" if nobody)
	AuthInTLS bool     // the credentials came over TLS
	From      string
	Rcpt      []string
	Data      string
	DataInTLS bool
}

func startTLSSMTP(t *testing.T, noTLS bool) (*tlsSMTPServer, *tls.Config) {
	t.Helper()
	dir := t.TempDir()
	pool := writeCert(t, dir)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsSMTPServer{t: t, ln: ln, noTLS: noTLS, user: "digest", pass: "s3cret",
		cfg: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s, &tls.Config{RootCAs: pool}
}

func (s *tlsSMTPServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *tlsSMTPServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		sess := &smtpSession{}
		s.mu.Lock()
		s.sessions = append(s.sessions, sess)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			s.session(c, sess)
		}()
	}
}

// record updates a session under the server's lock.
func (s *tlsSMTPServer) record(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

func (s *tlsSMTPServer) session(c net.Conn, sess *smtpSession) {
	tp := textproto.NewConn(c)
	inTLS := false
	_ = tp.PrintfLine("220 test.invalid ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		s.record(func() { sess.Commands = append(sess.Commands, verb) })
		switch verb {
		case "EHLO", "HELO":
			ext := []string{"250-test.invalid", "250-8BITMIME"}
			if !inTLS && !s.noTLS {
				ext = append(ext, "250-STARTTLS")
			}
			if inTLS || s.noTLS {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 SIZE 10240000")
			for _, l := range ext {
				_ = tp.PrintfLine("%s", l)
			}
		case "STARTTLS":
			if inTLS || s.noTLS {
				_ = tp.PrintfLine("503 not now")
				continue
			}
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.cfg)
			if err := tc.Handshake(); err != nil {
				return // the client refused the certificate
			}
			c, inTLS = tc, true
			tp = textproto.NewConn(tc)
			s.record(func() { sess.TLS = true })
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if strings.ToUpper(mech) != "PLAIN" {
				_ = tp.PrintfLine("504 unknown mechanism")
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				_ = tp.PrintfLine("535 5.7.8 authentication failed")
				continue
			}
			s.record(func() { sess.AuthUser, sess.AuthInTLS = parts[1], inTLS })
			_ = tp.PrintfLine("235 2.7.0 authenticated")
		case "MAIL":
			s.record(func() { sess.From = addrArg(arg) })
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			s.record(func() { sess.Rcpt = append(sess.Rcpt, addrArg(arg)) })
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 end with .")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.record(func() { sess.Data, sess.DataInTLS = string(b), inTLS })
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unknown command")
		}
	}
}

func (s *tlsSMTPServer) snapshot() []smtpSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]smtpSession, len(s.sessions))
	for i, p := range s.sessions {
		out[i] = *p
		out[i].Commands = append([]string(nil), p.Commands...)
		out[i].Rcpt = append([]string(nil), p.Rcpt...)
	}
	return out
}

// addrArg reads the address of "FROM:<a@b> BODY=8BITMIME" or "TO:<a@b>".
func addrArg(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	return strings.Trim(v, "<>")
}

// TestSMTPStartTLS: in the default mode the transport upgrades with
// STARTTLS before it sends credentials or the message; with a certificate
// it does not trust, or a server that offers no STARTTLS in require mode,
// nothing is sent at all; against a server without STARTTLS the default
// mode sends in clear text (opportunistic, as documented).
func TestSMTPStartTLS(t *testing.T) {
	m := Message{ID: "0123456789abcdef0123456789abcdef", Subject: "Treaty digest — STARTTLS", Text: "plain part", HTML: "<p>html part</p>", Date: winEnd}
	tests := []struct {
		name     string
		noTLS    bool   // the server offers no STARTTLS
		mode     string // SMTPConfig.TLS
		trust    bool   // the client trusts the test certificate
		user     string
		check    bool // Check instead of Send
		wantErr  string
		wantTLS  bool
		wantMail bool
		wantAuth bool
	}{
		{name: "default mode upgrades, then authenticates and sends", mode: "", trust: true, user: "digest", wantTLS: true, wantMail: true, wantAuth: true},
		{name: "require mode upgrades and sends", mode: TLSRequire, trust: true, user: "digest", wantTLS: true, wantMail: true, wantAuth: true},
		{name: "check upgrades and authenticates, sends nothing", mode: TLSStartTLS, trust: true, user: "digest", check: true, wantTLS: true, wantAuth: true},
		{name: "untrusted certificate: nothing sent", mode: TLSStartTLS, trust: false, user: "digest", wantErr: "starttls"},
		{name: "wrong password over TLS", mode: TLSStartTLS, trust: true, user: "intruder", wantErr: "auth", wantTLS: true},
		{name: "require mode without STARTTLS offered", noTLS: true, mode: TLSRequire, trust: true, wantErr: "server does not offer STARTTLS"},
		{name: "default mode without STARTTLS offered sends in clear", noTLS: true, mode: TLSStartTLS, trust: true, wantMail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clientTLS := startTLSSMTP(t, tt.noTLS)
			if !tt.trust {
				clientTLS = nil
			}
			pass := "s3cret"
			if tt.user == "intruder" {
				tt.user, pass = "digest", "guess"
			}
			tr, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: srv.port(), TLS: tt.mode, TLSConfig: clientTLS,
				Username: tt.user, Password: pass,
				From: "Treatywatch <digest@treatywatch.example>", To: []string{"a@example.org", "b@example.org"}, Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if tt.check {
				err = tr.Check(context.Background())
			} else {
				err = tr.Send(context.Background(), m)
			}
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			ss := srv.snapshot()
			if len(ss) != 1 {
				t.Fatalf("%d SMTP sessions, want 1", len(ss))
			}
			s := ss[0]
			t.Logf("commands: %v", s.Commands)
			if s.TLS != tt.wantTLS {
				t.Errorf("upgraded to TLS = %v, want %v", s.TLS, tt.wantTLS)
			}
			if (s.AuthUser != "") != tt.wantAuth {
				t.Errorf("authenticated as %q, want authenticated %v", s.AuthUser, tt.wantAuth)
			}
			if s.AuthUser != "" && !s.AuthInTLS {
				t.Error("credentials were sent before the TLS upgrade")
			}
			if tt.wantTLS {
				// Nothing but EHLO may come before STARTTLS.
				i := slices.Index(s.Commands, "STARTTLS")
				if i < 0 || slices.ContainsFunc(s.Commands[:i], func(c string) bool { return c != "EHLO" }) {
					t.Errorf("commands before STARTTLS: %v", s.Commands)
				}
			}
			if (s.Data != "") != tt.wantMail {
				t.Fatalf("message delivered = %v, want %v (commands %v)", s.Data != "", tt.wantMail, s.Commands)
			}
			if !tt.wantMail {
				if slices.Contains(s.Commands, "MAIL") {
					t.Errorf("MAIL sent although the send failed: %v", s.Commands)
				}
				return
			}
			if s.DataInTLS != tt.wantTLS {
				t.Errorf("message sent inside TLS = %v, want %v", s.DataInTLS, tt.wantTLS)
			}
			if s.From != "digest@treatywatch.example" || strings.Join(s.Rcpt, ",") != "a@example.org,b@example.org" {
				t.Errorf("envelope from %q to %v", s.From, s.Rcpt)
			}
			p := parseMail(t, []byte(s.Data))
			if p.subject != m.Subject || lf(p.text) != m.Text || lf(p.html) != m.HTML {
				t.Errorf("message read back: subject %q text %q html %q", p.subject, p.text, p.html)
			}
		})
	}
}
