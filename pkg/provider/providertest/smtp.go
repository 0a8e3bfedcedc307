package providertest

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTP is a tiny SMTP server on 127.0.0.1 that records one session per connection, for the
// tests of email delivery (pkg/provider/smtp, and the API's).
type SMTP struct {
	Addr string
	Port int

	ImplicitTLS bool
	OfferTLS    bool        // advertise STARTTLS
	TLSConfig   *tls.Config // server side, for STARTTLS and implicit TLS
	RcptReply   string      // reply to RCPT TO; default 250
	AuthReply   string      // reply to AUTH; default 235

	mu       sync.Mutex
	sessions []*SMTPSession
}

// SMTPSession is what one connection did.
type SMTPSession struct {
	Commands  []string // verbs in order, e.g. EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT
	AuthPlain string   // decoded PLAIN response
	AuthOnTLS bool
	MailFrom  string
	RcptTo    []string
	Data      string
}

// StartSMTP starts f on 127.0.0.1; it stops with the test.
func StartSMTP(t testing.TB, f *SMTP) *SMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if f.ImplicitTLS {
		ln = tls.NewListener(ln, f.TLSConfig)
	}
	t.Cleanup(func() { ln.Close() })
	f.Addr = ln.Addr().String()
	f.Port = ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return f
}

func (f *SMTP) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	s := &SMTPSession{}
	f.mu.Lock()
	f.sessions = append(f.sessions, s)
	f.mu.Unlock()
	_, onTLS := conn.(*tls.Conn)
	r := bufio.NewReader(conn)
	w := func(line string) { _, _ = conn.Write([]byte(line + "\r\n")) }
	w("220 fake.test ESMTP ready")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		f.mu.Lock()
		s.Commands = append(s.Commands, verb)
		f.mu.Unlock()
		switch verb {
		case "EHLO", "HELO":
			exts := []string{"250-fake.test greets you"}
			if f.OfferTLS && !onTLS {
				exts = append(exts, "250-STARTTLS")
			}
			w(strings.Join(append(exts, "250 AUTH PLAIN"), "\r\n"))
		case "STARTTLS":
			w("220 2.0.0 go ahead")
			tc := tls.Server(conn, f.TLSConfig)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, onTLS = tc, true
			r = bufio.NewReader(conn)
		case "AUTH":
			_, b64, _ := strings.Cut(arg, " ")
			dec, _ := base64.StdEncoding.DecodeString(b64)
			f.mu.Lock()
			s.AuthPlain, s.AuthOnTLS = string(dec), onTLS
			f.mu.Unlock()
			w(orDefault(f.AuthReply, "235 2.7.0 Authentication successful"))
		case "MAIL":
			f.mu.Lock()
			s.MailFrom = arg
			f.mu.Unlock()
			w("250 2.1.0 Ok")
		case "RCPT":
			f.mu.Lock()
			s.RcptTo = append(s.RcptTo, arg)
			f.mu.Unlock()
			w(orDefault(f.RcptReply, "250 2.1.5 Ok"))
		case "DATA":
			w("354 End data with <CR><LF>.<CR><LF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			f.mu.Lock()
			s.Data = b.String()
			f.mu.Unlock()
			w("250 2.0.0 Ok: queued as 4FZ1")
		case "QUIT":
			w("221 2.0.0 Bye")
			return
		default:
			w("502 5.5.2 Error: command not recognized")
		}
	}
}

// Only is the one session the server saw, failing the test when there was not exactly one.
func (f *SMTP) Only(t testing.TB) SMTPSession {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sessions) != 1 {
		t.Fatalf("fake SMTP server saw %d sessions, want 1", len(f.sessions))
	}
	return *f.sessions[0]
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// Sessions are the sessions so far.
func (f *SMTP) Sessions() []SMTPSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]SMTPSession, len(f.sessions))
	for i, s := range f.sessions {
		out[i] = *s
	}
	return out
}
