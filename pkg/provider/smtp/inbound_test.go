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
			pt.Equal(t, "inbound", ev.Inbound[0], tc.want)
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
