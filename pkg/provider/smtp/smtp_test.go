package smtp_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/smtp"
)

const (
	password      = "smtp-p4ssw0rd!"
	inboundSecret = "inbound-gateway-secret"
	msgID         = "0192f0c1-7a2b-7000-8000-000000000001"
)

// loopback is the dialer for the fake server on 127.0.0.1: egress's, with loopback allowed as
// PROVIDER_API_BASE_OVERRIDE allows it.
var loopback = egress.Dialer(true)

func config(f *pt.SMTP, mode string) smtp.Config {
	return smtp.Config{Host: "127.0.0.1", Port: f.Port, Username: "support@acme.example", Password: password,
		From: "Acme Support <support@acme.example>", TLS: mode, InboundSecret: inboundSecret}
}

func TestSendComposesAThreadedMessage(t *testing.T) {
	f := pt.StartSMTP(t, &pt.SMTP{})
	c := smtp.New(config(f, smtp.TLSNone), nil, loopback)
	res, err := c.Send(context.Background(), provider.Message{
		ID: msgID, To: "Ann Lee <ann@example.com>", Type: "text",
		Subject:    "Re: Order #12345 – delivery",
		Text:       "Hi Ann,\nyour order ships today. Grüße!\n" + strings.Repeat("long line ", 12),
		InReplyTo:  "<CAF=abc@mail.example.com>",
		References: []string{"<root@mail.example.com>", "CAF=abc@mail.example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, msgID+"@acme.example")

	s := f.Only(t)
	pt.Equal(t, "MAIL FROM", s.MailFrom, "FROM:<support@acme.example>")
	if !slices.Equal(s.RcptTo, []string{"TO:<ann@example.com>"}) {
		t.Errorf("RCPT TO = %v", s.RcptTo)
	}
	pt.Equal(t, "AUTH PLAIN", s.AuthPlain, "\x00support@acme.example\x00"+password)
	if !slices.Equal(s.Commands, []string{"EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"}) {
		t.Errorf("commands = %v", s.Commands)
	}

	m, err := mail.ReadMessage(strings.NewReader(s.Data))
	if err != nil {
		t.Fatalf("DATA is not RFC 5322: %v\n%s", err, s.Data)
	}
	h := m.Header
	pt.Equal(t, "From", h.Get("From"), `"Acme Support" <support@acme.example>`)
	pt.Equal(t, "To", h.Get("To"), `"Ann Lee" <ann@example.com>`)
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	pt.Equal(t, "Subject", subject, "Re: Order #12345 – delivery")
	pt.Equal(t, "Message-ID", h.Get("Message-ID"), "<"+msgID+"@acme.example>")
	pt.Equal(t, "In-Reply-To", h.Get("In-Reply-To"), "<CAF=abc@mail.example.com>")
	pt.Equal(t, "References", h.Get("References"), "<root@mail.example.com> <CAF=abc@mail.example.com>")
	pt.Equal(t, "MIME-Version", h.Get("MIME-Version"), "1.0")
	pt.Equal(t, "Content-Type", h.Get("Content-Type"), "text/plain; charset=UTF-8")
	pt.Equal(t, "Content-Transfer-Encoding", h.Get("Content-Transfer-Encoding"), "quoted-printable")
	if d, err := h.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date = %q (%v)", h.Get("Date"), err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	pt.Equal(t, "body", strings.TrimRight(string(body), "\r\n"),
		"Hi Ann,\r\nyour order ships today. Grüße!\r\n"+strings.Repeat("long line ", 12))
	for _, line := range strings.Split(s.Data, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78 characters: %q", line)
		}
	}
}

func TestSendCannotInjectHeaders(t *testing.T) {
	f := pt.StartSMTP(t, &pt.SMTP{})
	_, err := smtp.New(config(f, smtp.TLSNone), nil, loopback).Send(context.Background(), provider.Message{
		ID: msgID, To: "ann@example.com", Subject: "Hello\r\nBcc: victim@example.com", Text: "x",
		InReplyTo: "<a@b>\r\nBcc: victim@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(strings.NewReader(f.Only(t).Data))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" || m.Header.Get("In-Reply-To") != "" {
		t.Errorf("injected headers: %v", m.Header)
	}
	pt.Equal(t, "Subject", m.Header.Get("Subject"), "Hello Bcc: victim@example.com")
}

func TestSendTLSModes(t *testing.T) {
	c := newCerts(t)
	tests := []struct {
		name     string
		mode     string
		server   *pt.SMTP
		commands []string
	}{
		{"starttls upgrades before AUTH", smtp.TLSStartTLS, &pt.SMTP{OfferTLS: true, TLSConfig: c.server},
			[]string{"EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"}},
		{"implicit tls", smtp.TLSImplicit, &pt.SMTP{ImplicitTLS: true, TLSConfig: c.server},
			[]string{"EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := pt.StartSMTP(t, tc.server)
			_, err := smtp.New(config(f, tc.mode), c.client, loopback).Send(context.Background(), provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			s := f.Only(t)
			if !slices.Equal(s.Commands, tc.commands) {
				t.Errorf("commands = %v, want %v", s.Commands, tc.commands)
			}
			if !s.AuthOnTLS {
				t.Error("credentials were sent before TLS")
			}
		})
	}
}

func TestSendRefusesWhatItMustNot(t *testing.T) {
	c := newCerts(t)
	t.Run("starttls required but not offered: no AUTH, no mail", func(t *testing.T) {
		f := pt.StartSMTP(t, &pt.SMTP{})
		res, err := smtp.New(config(f, smtp.TLSStartTLS), c.client, loopback).Send(context.Background(), provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"})
		if !provider.IsPermanent(err) {
			t.Fatalf("want a permanent error, got %v", err)
		}
		if s := f.Only(t); slices.Contains(s.Commands, "AUTH") || slices.Contains(s.Commands, "MAIL") {
			t.Errorf("commands = %v", s.Commands)
		}
		pt.NoSecret(t, err, res, password)
	})
	t.Run("untrusted certificate is permanent", func(t *testing.T) {
		f := pt.StartSMTP(t, &pt.SMTP{ImplicitTLS: true, TLSConfig: c.server})
		_, err := smtp.New(config(f, smtp.TLSImplicit), nil, loopback).Send(context.Background(), provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"})
		var e *provider.Error
		if !errors.As(err, &e) || !e.Permanent || e.Code != "tls_certificate" {
			t.Fatalf("got %v", err)
		}
	})
}

// TestSendRefusesInternalHosts: without loopback allowed (the default dialer, nil), a host on
// loopback, by address or by name, is refused before connecting: the server never hears a
// connection, and the error is permanent with one fixed text.
func TestSendRefusesInternalHosts(t *testing.T) {
	f := pt.StartSMTP(t, &pt.SMTP{})
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			cfg := config(f, smtp.TLSNone)
			cfg.Host = host
			_, err := smtp.New(cfg, nil, nil).Send(context.Background(), provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"})
			var e *provider.Error
			if !errors.As(err, &e) || !errors.Is(err, egress.ErrForbiddenAddress) {
				t.Fatalf("want a refusal, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, true)
			pt.Equal(t, "Code", e.Code, provider.CodeForbidden)
			pt.Equal(t, "Text", e.Text, provider.TextForbidden)
		})
	}
	pt.Equal(t, "connections", len(f.Sessions()), 0)
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		server    *pt.SMTP
		msg       provider.Message
		permanent bool
		code      string
	}{
		{"mailbox unavailable", &pt.SMTP{RcptReply: "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"},
			provider.Message{ID: msgID, To: "nobody@example.com", Text: "hi"}, true, "550"},
		{"greylisted", &pt.SMTP{RcptReply: "451 4.7.1 Greylisted, please try again later"},
			provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"}, false, "451"},
		{"bad credentials", &pt.SMTP{AuthReply: "535 5.7.8 Error: authentication failed"},
			provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"}, true, "535"},
		{"not an address", &pt.SMTP{}, provider.Message{ID: msgID, To: "ann at example", Text: "hi"}, true, "invalid_message"},
		{"templates do not exist in email", &pt.SMTP{}, provider.Message{ID: msgID, To: "ann@example.com", Type: "template", Template: &provider.Template{Name: "x"}}, true, "invalid_message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := pt.StartSMTP(t, tc.server)
			res, err := smtp.New(config(f, smtp.TLSNone), nil, loopback).Send(context.Background(), tc.msg)
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "Code", e.Code, tc.code)
			pt.NoSecret(t, err, res, password, inboundSecret)
		})
	}
	t.Run("nothing listening is transient", func(t *testing.T) {
		cfg := smtp.Config{Host: "127.0.0.1", Port: 1, From: "a@acme.example", TLS: smtp.TLSNone, Password: password}
		_, err := smtp.New(cfg, nil, loopback).Send(context.Background(), provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"})
		if err == nil || provider.IsPermanent(err) {
			t.Fatalf("want a transient error, got %v", err)
		}
		// Refused, closed or timed out: the tenant is told the same thing.
		var e *provider.Error
		if !errors.As(err, &e) || e.Text != provider.TextUnreachable || e.Code != "transport" {
			t.Fatalf("want the fixed unreachable text, got %#v", err)
		}
	})
	t.Run("a server that closes at once reads like one that is not there", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		cfg := smtp.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "a@acme.example", TLS: smtp.TLSNone}
		_, err = smtp.New(cfg, nil, loopback).Send(context.Background(), provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"})
		var e *provider.Error
		if !errors.As(err, &e) || e.Permanent || e.Text != provider.TextUnreachable || !errors.Is(err, io.EOF) {
			t.Fatalf("want the fixed unreachable text over EOF, got %#v", err)
		}
	})
	t.Run("a cancelled context is transient", func(t *testing.T) {
		f := pt.StartSMTP(t, &pt.SMTP{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := smtp.New(config(f, smtp.TLSNone), nil, loopback).Send(ctx, provider.Message{ID: msgID, To: "ann@example.com", Text: "hi"})
		if err == nil || provider.IsPermanent(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("want a transient cancellation, got %v", err)
		}
	})
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"right bearer secret", "Bearer " + inboundSecret, true},
		{"wrong secret", "Bearer inbound-gateway-secreT", false},
		{"basic auth", "Basic " + inboundSecret, false},
		{"missing header", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Authorization", tc.header)
			}
			err := smtp.Verify(h, nil, inboundSecret)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, provider.ErrSignature)) {
				t.Fatalf("Verify = %v", err)
			}
			pt.NoSecret(t, err, nil, inboundSecret)
		})
	}
	if err := smtp.Verify(http.Header{"Authorization": {"Bearer "}}, nil, ""); err == nil {
		t.Error("an empty configured secret must never verify")
	}
}

// TestSendAttachments: stored files travel as MIME parts of a multipart/mixed message, after
// the text: base64 in short lines, with their type and file name (RFC 2231 when not ASCII);
// links stay in the text.
func TestSendAttachments(t *testing.T) {
	f := pt.StartSMTP(t, &pt.SMTP{})
	pdf := []byte("%PDF-1.7\n" + strings.Repeat("binary \x00\x01\x02 stream ", 400))
	_, err := smtp.New(config(f, smtp.TLSNone), nil, loopback).Send(context.Background(), provider.Message{
		ID: msgID, To: "ann@example.com", Type: "attachment", Subject: "Your invoice", Text: "Hi Ann, your invoice is attached.",
		Attachments: []provider.Attachment{
			pt.Stored("application/pdf", "invoice 12345.pdf", pdf, "https://sb.example.com/v1/media/1/content?s=a"),
			{URL: "https://cdn.example.com/terms.html", MIMEType: "text/html"},
			pt.Stored("text/plain; charset=utf-8", "Grüße.txt", []byte("Grüße"), ""),
		}})
	if err != nil {
		t.Fatal(err)
	}
	data := f.Only(t).Data
	for _, line := range strings.Split(data, "\r\n") {
		if len(line) > 78 {
			t.Fatalf("line longer than 78 characters: %q", line)
		}
	}
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	pt.Equal(t, "MIME-Version", m.Header.Get("MIME-Version"), "1.0")
	r := multipart.NewReader(m.Body, params["boundary"])
	type part struct{ contentType, disposition, filename, body string }
	var got []part
	for {
		p, err := r.NextPart() // decodes quoted-printable itself
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			body, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
			if err != nil {
				t.Fatal(err)
			}
		}
		disposition, dp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		got = append(got, part{p.Header.Get("Content-Type"), disposition, dp["filename"], string(body)})
	}
	want := []part{
		{"text/plain; charset=UTF-8", "", "", "Hi Ann, your invoice is attached.\r\n\r\nhttps://cdn.example.com/terms.html\r\n"},
		{`application/pdf; name="invoice 12345.pdf"`, "attachment", "invoice 12345.pdf", string(pdf)},
		{"text/plain; charset=utf-8; name*=utf-8''Gr%C3%BC%C3%9Fe.txt", "attachment", "Grüße.txt", "Grüße"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d parts: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestSendAttachmentGone: a stored file that cannot be opened fails the send before the
// server is called, as the dispatcher classified it.
func TestSendAttachmentGone(t *testing.T) {
	f := pt.StartSMTP(t, &pt.SMTP{})
	gone := pt.Stored("application/pdf", "a.pdf", []byte("x"), "")
	gone.Open = func(context.Context) (io.ReadCloser, error) {
		return nil, &provider.Error{Provider: "smtp", Permanent: true, Code: "media_not_found"}
	}
	_, err := smtp.New(config(f, smtp.TLSNone), nil, loopback).Send(context.Background(), provider.Message{
		ID: msgID, To: "ann@example.com", Type: "attachment", Attachments: []provider.Attachment{gone}})
	var e *provider.Error
	if !errors.As(err, &e) || !e.Permanent || e.Code != "media_not_found" {
		t.Fatalf("err %v", err)
	}
	if s := f.Sessions(); len(s) != 0 {
		t.Errorf("the server was called: %+v", s[0])
	}
}
