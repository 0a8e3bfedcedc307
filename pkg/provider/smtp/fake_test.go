package smtp_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a tiny SMTP server on 127.0.0.1 that records one session per connection.
type fakeServer struct {
	addr string
	port int

	implicitTLS bool
	offerTLS    bool        // advertise STARTTLS
	tlsConfig   *tls.Config // server side, for STARTTLS and implicit TLS
	rcptReply   string      // reply to RCPT TO; default 250
	authReply   string      // reply to AUTH; default 235

	mu       sync.Mutex
	sessions []*session
}

type session struct {
	Commands  []string // verbs in order, e.g. EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT
	AuthPlain string   // decoded PLAIN response
	AuthOnTLS bool
	MailFrom  string
	RcptTo    []string
	Data      string
}

type certs struct {
	server *tls.Config
	client *tls.Config
}

// newCerts makes a self-signed certificate for 127.0.0.1 and the configs that serve and trust it.
func newCerts(t *testing.T) certs {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certs{
		server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		client: &tls.Config{RootCAs: pool},
	}
}

func startFake(t *testing.T, f *fakeServer) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if f.implicitTLS {
		ln = tls.NewListener(ln, f.tlsConfig)
	}
	t.Cleanup(func() { ln.Close() })
	f.addr = ln.Addr().String()
	f.port = ln.Addr().(*net.TCPAddr).Port
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

func (f *fakeServer) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	s := &session{}
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
			if f.offerTLS && !onTLS {
				exts = append(exts, "250-STARTTLS")
			}
			w(strings.Join(append(exts, "250 AUTH PLAIN"), "\r\n"))
		case "STARTTLS":
			w("220 2.0.0 go ahead")
			tc := tls.Server(conn, f.tlsConfig)
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
			w(or(f.authReply, "235 2.7.0 Authentication successful"))
		case "MAIL":
			f.mu.Lock()
			s.MailFrom = arg
			f.mu.Unlock()
			w("250 2.1.0 Ok")
		case "RCPT":
			f.mu.Lock()
			s.RcptTo = append(s.RcptTo, arg)
			f.mu.Unlock()
			w(or(f.rcptReply, "250 2.1.5 Ok"))
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

func (f *fakeServer) only(t *testing.T) session {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sessions) != 1 {
		t.Fatalf("fake SMTP server saw %d sessions, want 1", len(f.sessions))
	}
	return *f.sessions[0]
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
