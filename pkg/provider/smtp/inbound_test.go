package smtp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/smtp"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

var (
	plainReply = crlf(`Return-Path: <ann@example.com>
Received: from mail.example.com by mx.acme.example; Thu, 5 Nov 2026 12:00:03 +0000
From: =?UTF-8?Q?Ann_L=C3=A9e?= <Ann@Example.com>
To: support@acme.example
Subject: =?UTF-8?Q?Re:_Order_#12345_=E2=80=93_delivery?=
Date: Thu, 5 Nov 2026 13:00:00 +0100
Message-ID: <CAF=reply-1@mail.example.com>
In-Reply-To: <0192f0c1-7a2b-7000-8000-000000000001@acme.example>
References: <root@mail.example.com> <0192f0c1-7a2b-7000-8000-000000000001@acme.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Thanks, that works for me. Gr=C3=BC=C3=9Fe!

On Thu, Nov 5, 2026 Acme Support wrote:
> your order ships today.
`)

	multipartReply = crlf(`From: Bob <bob@example.org>
To: support@acme.example
Subject: Photo of the damage
Date: Thu, 05 Nov 2026 09:15:00 -0500
Message-ID: <m2@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: base64

VGhlIGJveCBhcnJpdmVkIGNydXNoZWQuIENhZukgPw==

--inner
Content-Type: text/html; charset=utf-8

<p>The box arrived crushed.</p>
--inner--

--outer
Content-Type: image/jpeg; name="box.jpg"
Content-Disposition: attachment; filename="box.jpg"
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRgABAQAAAQABAAD/
--outer--
`)

	// An HTML mail with a pasted image (inline, related), a PDF attached with an RFC 2047
	// name, a text file attached, and a part whose base64 is broken.
	filesMail = crlf(`From: Dee <dee@example.com>
To: support@acme.example
Subject: Papers
Message-ID: <files-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

See the scan.
--alt
Content-Type: text/html; charset=utf-8

<p>See the scan.</p><img src="cid:scan">
--alt--

--rel
Content-Type: image/png
Content-ID: <scan>
Content-Disposition: inline
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--

--mix
Content-Type: application/pdf; name="=?UTF-8?B?UmVjaG51bmcucGRm?="
Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--mix
Content-Type: text/plain; charset=utf-8; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

not the body
--mix
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="broken.bin"
Content-Transfer-Encoding: base64

!!!!
--mix--
`)

	noMessageID = crlf(`From: carol@example.net
To: support@acme.example
Subject: hello

just text
`)
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want provider.Inbound
	}{
		{"quoted-printable reply with threading", plainReply, provider.Inbound{
			ExternalID:  "CAF=reply-1@mail.example.com",
			From:        "ann@example.com",
			ContactName: "Ann Lée",
			Subject:     "Re: Order #12345 – delivery",
			InReplyTo:   "0192f0c1-7a2b-7000-8000-000000000001@acme.example",
			ReceivedAt:  time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC),
			Text:        "Thanks, that works for me. Grüße!\n\nOn Thu, Nov 5, 2026 Acme Support wrote:\n> your order ships today.",
		}},
		{"first text/plain of nested multipart, latin-1 base64", multipartReply, provider.Inbound{
			ExternalID:  "m2@example.org",
			From:        "bob@example.org",
			ContactName: "Bob",
			Subject:     "Photo of the damage",
			ReceivedAt:  time.Date(2026, 11, 5, 14, 15, 0, 0, time.UTC),
			Text:        "The box arrived crushed. Café ?",
			Attachments: []provider.Attachment{{Data: []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01,
				0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff}, MIMEType: "image/jpeg", Filename: "box.jpg", Size: 21}},
		}},
		{"inline image and attached files, in order; the broken one left out", filesMail, provider.Inbound{
			ExternalID:  "files-1@example.com",
			From:        "dee@example.com",
			ContactName: "Dee",
			Subject:     "Papers",
			Text:        "See the scan.",
			Attachments: []provider.Attachment{
				{Data: []byte("\x89PNG\r\n\x1a\n"), MIMEType: "image/png", Size: 8},
				{Data: []byte("%PDF-1.4\n"), MIMEType: "application/pdf", Filename: "Rechnung März.pdf", Size: 9},
				{Data: []byte("not the body"), MIMEType: "text/plain", Filename: "notes.txt", Size: 12},
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := smtp.Parse([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Inbound) != 1 || len(ev.Receipts) != 0 {
				t.Fatalf("got %+v", ev)
			}
			pt.DeepEqual(t, "inbound", ev.Inbound[0], tc.want)
		})
	}
	t.Run("no Message-ID gets a content hash", func(t *testing.T) {
		a, err := smtp.Parse([]byte(noMessageID))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := smtp.Parse([]byte(noMessageID))
		id := a.Inbound[0].ExternalID
		if !strings.HasPrefix(id, "sha256:") || id != b.Inbound[0].ExternalID {
			t.Errorf("ExternalID = %q", id)
		}
		pt.Equal(t, "Text", a.Inbound[0].Text, "just text")
	})
	t.Run("malformed", func(t *testing.T) {
		for _, raw := range []string{"", "no headers at all", crlf("To: x@y\nSubject: no sender\n\nbody\n")} {
			if _, err := smtp.Parse([]byte(raw)); !errors.Is(err, provider.ErrMalformed) {
				t.Errorf("Parse(%q) = %v, want ErrMalformed", raw, err)
			}
		}
	})
}
