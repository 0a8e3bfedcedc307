package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/provider/line"
	"github.com/switchboard/switchboard/pkg/provider/meta"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/twilio"
)

// mediaToken is the fake media APIs' credential: WhatsApp's access token, Telegram's bot
// token and LINE's channel access token alike.
const mediaToken = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// Files with the signatures the media store sniffs.
var (
	pdfFile  = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("invoice "), 900)...)
	jpegFile = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{0x42}, 5000)...)
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0x17}, 3000)...)
)

// waitSettled polls a message until none of its attachments is pending.
func waitSettled(t *testing.T, e *apitest.Env, token, id string) messageBody {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var m messageBody
		e.Get(t, "/v1/messages/"+id, token).Expect(t, http.StatusOK).JSON(t, &m)
		pending := false
		for _, a := range m.Attachments {
			pending = pending || a.Status == "pending"
		}
		if !pending {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s still has pending attachments: %+v", id, m.Attachments)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// messageByExternalID is the id of the message a webhook stored under the provider's id.
func messageByExternalID(t *testing.T, e *apitest.Env, externalID string) string {
	t.Helper()
	var id string
	if err := e.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM messages WHERE external_id = $1`, externalID).Scan(&id); err != nil {
		t.Fatalf("message %s: %v", externalID, err)
	}
	return id
}

// storedBytes reads media through GET /v1/media/{id}, with its row (whose contact it is).
func storedBytes(t *testing.T, e *apitest.Env, w *apitest.Workspace, id string) (media.Media, []byte) {
	t.Helper()
	m, err := e.Services.Media.Get(context.Background(), uuid.MustParse(w.ID), uuid.MustParse(id))
	if err != nil {
		t.Fatalf("media %s: %v", id, err)
	}
	return m, e.Get(t, "/v1/media/"+id, w.APIKey).Expect(t, http.StatusOK).Body
}

// updatedEvents are the message.updated events the workspace's feed holds for a message.
func updatedEvents(t *testing.T, e *apitest.Env, token, messageID string) []messageBody {
	t.Helper()
	var page struct {
		Data []struct {
			Type string      `json:"type"`
			Data messageBody `json:"data"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?types=message.updated&limit=100", token).Expect(t, http.StatusOK).JSON(t, &page)
	var out []messageBody
	for _, ev := range page.Data {
		if ev.Data.ID == messageID {
			out = append(out, ev.Data)
		}
	}
	return out
}

// requestsFor counts the fake's requests whose path ends in suffix.
func requestsFor(fake *pt.Media, suffix string) int {
	n := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

// TestInboundMediaByID is acceptance 1 of issue 15 for the providers that deliver media by
// id: a signed webhook names a file; the provider's media API fails twice (500) and then
// serves it; the fetch job retries, streams it into the media store, and the attachment
// turns ready with the stored media's id, size and sniffed type, the stored bytes exactly the
// provider's, and message.updated published. The media belongs to the message's workspace
// and contact: another workspace cannot read it, and deleting the contact deletes it, file
// included once the media sweep runs.
func TestInboundMediaByID(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	fake := pt.NewMedia(t, mediaToken)
	now := e.Clock.Now().Unix() - 60
	type signed struct {
		body   string
		header map[string]string
	}
	tests := []struct {
		name, typ, prov string
		config          map[string]any
		fileID          string
		file            []byte
		externalID      string
		// firstStep is the path suffix of the request that fails twice.
		firstStep            string
		webhook              func() signed
		wantType, wantName   string
		wantText, wantCaller string
	}{
		{name: "whatsapp_cloud", typ: "whatsapp", prov: "whatsapp_cloud",
			config: map[string]any{"phone_number_id": "106540352242922", "access_token": mediaToken, "app_secret": "wa-app-secret",
				"api_base": fake.URL + "/wa"},
			fileID: "1003383421387257", file: pdfFile, externalID: "wamid.DOC1", firstStep: "/wa/1003383421387257",
			webhook: func() signed {
				b := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
  "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
  "messages":[{"from":"16505551234","id":"wamid.DOC1","timestamp":"%d","type":"document",
    "document":{"caption":"the invoice","filename":"invoice.pdf","mime_type":"application/pdf","sha256":"x","id":"1003383421387257"}}]}}]}]}`, now)
				return signed{b, map[string]string{"Content-Type": "application/json", meta.SignatureHeader: meta.Sign([]byte(b), "wa-app-secret")}}
			},
			wantType: "application/pdf", wantName: "invoice.pdf", wantText: "the invoice"},
		{name: "telegram", typ: "telegram", prov: "telegram",
			config: map[string]any{"bot_token": mediaToken, "secret_token": "tg-secret-token", "api_base": fake.URL + "/tg"},
			fileID: "AgACAgQAAxkBAAIBlarge", file: jpegFile, externalID: "1111111:1366", firstStep: "/getFile",
			webhook: func() signed {
				b := fmt.Sprintf(`{"update_id":10001,"message":{"message_id":1366,"date":%d,"caption":"the receipt",
  "from":{"id":1111111,"is_bot":false,"first_name":"Ann"},"chat":{"id":1111111,"type":"private"},
  "photo":[{"file_id":"AgACAgQAAxkBAAIBsmall","file_unique_id":"s","width":90,"height":67},
           {"file_id":"AgACAgQAAxkBAAIBlarge","file_unique_id":"l","width":1280,"height":960}]}}`, now)
				return signed{b, map[string]string{"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "tg-secret-token"}}
			},
			// A photo has no name; the Bot API's file path gives one.
			wantType: "image/jpeg", wantName: "AgACAgQAAxkBAAIBlarge.bin", wantText: "the receipt"},
		{name: "line", typ: "line", prov: "line",
			config: map[string]any{"channel_access_token": mediaToken, "channel_secret": "line-channel-secret", "api_base": fake.URL + "/line"},
			fileID: "354718705033693861", file: pngFile, externalID: "354718705033693861", firstStep: "/354718705033693861/content",
			webhook: func() signed {
				b := fmt.Sprintf(`{"destination":"x","events":[{"type":"message","message":{"type":"image","id":"354718705033693861",
  "contentProvider":{"type":"line"}},"timestamp":%d,"source":{"type":"user","userId":"U80696558e1aa831"},"mode":"active",
  "webhookEventId":"01FZ74A0TDDPYRVKNK77XKC3ZS"}]}`, now*1000)
				return signed{b, map[string]string{"Content-Type": "application/json", line.SignatureHeader: line.Sign([]byte(b), "line-channel-secret")}}
			},
			wantType: "image/png"},
	}
	var first messageBody
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ch channelBody
			e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": tc.typ, "name": tc.name, "provider": tc.prov, "config": tc.config}).
				Expect(t, http.StatusCreated).JSON(t, &ch)
			fake.Add(tc.fileID, tc.file, "application/octet-stream")
			fake.Fail(tc.fileID, http.StatusInternalServerError, http.StatusInternalServerError)

			wh := tc.webhook()
			var ack struct{ Received int }
			e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/webhooks/" + ch.ID + "/" + tc.prov, Body: wh.body, Header: wh.header}).
				Expect(t, http.StatusOK).JSON(t, &ack)
			pt.Equal(t, "received", ack.Received, 1)
			id := messageByExternalID(t, e, tc.externalID)

			m := waitSettled(t, e, w.OwnerToken, id)
			pt.Equal(t, "type", m.Type, "attachment")
			pt.Equal(t, "caption", m.Text, tc.wantText)
			if len(m.Attachments) != 1 {
				t.Fatalf("attachments = %+v", m.Attachments)
			}
			a := m.Attachments[0]
			if a.Status != "ready" || a.MediaID == nil || a.Size == nil || a.MimeType == nil {
				t.Fatalf("attachment = %+v, want ready with media_id, size and mime_type", a)
			}
			pt.Equal(t, "size", *a.Size, int64(len(tc.file)))
			pt.Equal(t, "sniffed type", *a.MimeType, tc.wantType)
			pt.Equal(t, "filename", orEmpty(a.Filename), tc.wantName)
			pt.Equal(t, "no provider URL once stored", a.URL == nil, true)
			pt.Equal(t, "the provider failed twice, then served it", requestsFor(fake, tc.firstStep), 3)

			stored, data := storedBytes(t, e, w, *a.MediaID)
			pt.Equal(t, "stored bytes are the provider's", bytes.Equal(data, tc.file), true)
			pt.Equal(t, "media of the message's contact", stored.ContactID != nil && stored.ContactID.String() == m.ContactID, true)

			evs := updatedEvents(t, e, w.APIKey, id)
			if len(evs) != 1 || len(evs[0].Attachments) != 1 || evs[0].Attachments[0].Status != "ready" {
				t.Fatalf("message.updated events = %+v, want one with the ready attachment", evs)
			}
			if first.ID == "" {
				first = m
			}
		})
	}
	if t.Failed() {
		return
	}
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.Path, "/wa/") || strings.HasPrefix(r.Path, "/line/") {
			pt.Equal(t, r.Path+" bearer", r.Header.Get("Authorization"), "Bearer "+mediaToken)
		}
	}

	// Tenancy: another workspace does not find the media; deleting the contact deletes it,
	// and the sweep deletes its file.
	mediaID := uuid.MustParse(*first.Attachments[0].MediaID)
	other := e.NewWorkspace(t, "Other")
	e.Get(t, "/v1/media/"+mediaID.String(), other.APIKey).ExpectProblem(t, http.StatusNotFound, "media_not_found")
	stored, _ := storedBytes(t, e, w, mediaID.String())
	blob := filepath.Join(strings.TrimPrefix(e.Config.MediaStore, "file://"), w.ID, stored.SHA256)
	if _, err := os.Stat(blob); err != nil {
		t.Fatalf("the media's file: %v", err)
	}
	e.Delete(t, "/v1/contacts/"+first.ContactID, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/media/"+mediaID.String(), w.APIKey).ExpectProblem(t, http.StatusNotFound, "media_not_found")
	if err := e.Jobs.Run(context.Background(), job.SweepMedia{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(blob); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the deleted media's file after the sweep: %v, want gone", err)
	}
}

// TestInboundMediaFailures: a media id the provider does not know (404), a file declared over
// the cap, a file that turns out over the cap while it streams (an endless body, which only a
// streaming fetch can refuse) and a provider that keeps failing each end in a failed
// attachment with a reason for people; the message is kept, the webhook answered 200, and
// message.updated published.
func TestInboundMediaFailures(t *testing.T) {
	e := providerEnv(t, func(c *config.Config) { c.MediaMaxBytes = 64 << 10 })
	w := e.NewWorkspace(t, "Acme")
	fake := pt.NewMedia(t, mediaToken)
	fake.Add("big", bytes.Repeat([]byte("%PDF-1.4\n"), 100<<10/9), "application/pdf")
	fake.Stream("endless")
	fake.Add("flaky", pdfFile, "application/pdf")
	fake.Fail("flaky", http.StatusInternalServerError, http.StatusInternalServerError, http.StatusInternalServerError,
		http.StatusInternalServerError, http.StatusInternalServerError, http.StatusInternalServerError,
		http.StatusInternalServerError, http.StatusInternalServerError)
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "106540352242922", "access_token": mediaToken, "app_secret": "wa-app-secret",
			"api_base": fake.URL + "/wa"}}).Expect(t, http.StatusCreated).JSON(t, &ch)

	tests := []struct{ id, reason string }{
		{"unknown", "the provider answered 404 for the media id: Unsupported get request."},
		{"big", "the file is over the 64 KiB limit"},
		{"endless", "the file is over the 64 KiB limit"},
		{"flaky", "the provider answered 500 for the media id (gave up after 8 attempts)"},
	}
	var msgs []string
	for _, tc := range tests {
		msgs = append(msgs, fmt.Sprintf(`{"from":"16505551234","id":"wamid.%s","timestamp":"%d","type":"image",
  "image":{"caption":"photo %s","mime_type":"image/jpeg","sha256":"x","id":%q}}`, tc.id, e.Clock.Now().Unix()-60, tc.id, tc.id))
	}
	body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
  "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[` + strings.Join(msgs, ",") + `]}}]}]}`
	var ack struct{ Received int }
	hook(t, e, ch.ID, "whatsapp_cloud", "application/json", body, map[string]string{meta.SignatureHeader: meta.Sign([]byte(body), "wa-app-secret")}).
		Expect(t, http.StatusOK).JSON(t, &ack)
	pt.Equal(t, "received", ack.Received, len(tests))

	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			id := messageByExternalID(t, e, "wamid."+tc.id)
			m := waitSettled(t, e, w.OwnerToken, id)
			pt.Equal(t, "the message is kept with its caption", m.Text, "photo "+tc.id)
			if len(m.Attachments) != 1 {
				t.Fatalf("attachments = %+v", m.Attachments)
			}
			a := m.Attachments[0]
			pt.Equal(t, "status", a.Status, "failed")
			if r := orEmpty(a.FailureReason); !strings.HasPrefix(r, strings.TrimSuffix(tc.reason, ".")) ||
				(strings.Contains(tc.reason, "gave up") && !strings.HasSuffix(r, "(gave up after 8 attempts)")) {
				t.Errorf("failure_reason = %q, want %q", r, tc.reason)
			}
			pt.Equal(t, "no media", a.MediaID == nil, true)
			pt.Equal(t, "message.updated", len(updatedEvents(t, e, w.APIKey, id)), 1)
		})
	}
	pt.Equal(t, "a file declared over the cap is never downloaded", requestsFor(fake, "/download/big"), 0)
	// The fake writes until the server hangs up: what it wrote is what the sockets' buffers
	// took, nowhere near what a buffering fetch would have read (all of an endless body).
	if n := fake.Streamed("endless"); n > 32<<20 {
		t.Errorf("the endless body wrote %d bytes before the fetch hung up", n)
	}
	pt.Equal(t, "nothing stored", count(t, e, `SELECT count(*) FROM media`), 0)
}

// TestInboundMediaByLinkAndMail: Twilio's two MediaUrls are fetched with the account's basic
// auth into two ready attachments; an email's PDF part is stored by the webhook itself, ready
// at once and owned by the message's contact, and a redelivered mail stores no second copy.
func TestInboundMediaByLinkAndMail(t *testing.T) {
	e := providerEnv(t, func(c *config.Config) { c.PublicBaseURL = "https://sb.example.com" })
	w := e.NewWorkspace(t, "Acme")
	fake := pt.NewMedia(t, "")
	fake.BasicAuth = "AC1:twilio-auth-token"
	fake.Add("ME1", pngFile, "image/png")
	fake.Add("ME2", pdfFile, "application/pdf")

	var sms channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "sms", "name": "SMS", "provider": "twilio",
		"config": map[string]any{"account_sid": "AC1", "auth_token": "twilio-auth-token", "from": "+15017122661", "api_base": fake.URL}}).
		Expect(t, http.StatusCreated).JSON(t, &sms)
	form := url.Values{"MessageSid": {"MM23"}, "AccountSid": {"AC1"}, "From": {"+15558675310"}, "To": {"+15017122661"},
		"Body": {"both sides"}, "NumMedia": {"2"}, "MediaUrl0": {fake.File("ME1")}, "MediaContentType0": {"image/png"},
		"MediaUrl1": {fake.File("ME2")}, "MediaContentType1": {"application/pdf"}}
	sig := twilio.Sign("twilio-auth-token", "https://sb.example.com/webhooks/"+sms.ID+"/twilio", form)
	hook(t, e, sms.ID, "twilio", "application/x-www-form-urlencoded", form.Encode(), map[string]string{twilio.SignatureHeader: sig}).
		Expect(t, http.StatusOK)
	m := waitSettled(t, e, w.OwnerToken, messageByExternalID(t, e, "MM23"))
	if len(m.Attachments) != 2 {
		t.Fatalf("attachments = %+v", m.Attachments)
	}
	for i, want := range [][]byte{pngFile, pdfFile} {
		a := m.Attachments[i]
		if a.Status != "ready" || a.MediaID == nil {
			t.Fatalf("attachment %d = %+v", i, a)
		}
		_, data := storedBytes(t, e, w, *a.MediaID)
		pt.Equal(t, fmt.Sprintf("attachment %d bytes", i), bytes.Equal(data, want), true)
	}
	for _, r := range fake.Requests() {
		user, pass, _ := (&http.Request{Header: r.Header}).BasicAuth()
		pt.Equal(t, r.Path+" basic auth", user+":"+pass, "AC1:twilio-auth-token")
	}

	var mail channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "email", "name": "Mail", "provider": "smtp",
		"config": map[string]any{"host": "smtp.example.com", "from": "support@example.com", "password": "p", "inbound_secret": "gateway-secret"}}).
		Expect(t, http.StatusCreated).JSON(t, &mail)
	raw := "From: Ann Lee <ann@example.org>\r\nTo: support@example.com\r\nSubject: Quote\r\nMessage-ID: <quote-1@example.org>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe signed quote.\r\n" +
		"--b\r\nContent-Type: application/pdf; name=quote.pdf\r\nContent-Disposition: attachment; filename=quote.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64Lines(pdfFile) + "--b--\r\n"
	var ack struct{ Received, Duplicates int }
	for range 2 {
		hook(t, e, mail.ID, "smtp", "message/rfc822", raw, map[string]string{"Authorization": "Bearer gateway-secret"}).
			Expect(t, http.StatusOK).JSON(t, &ack)
	}
	pt.Equal(t, "the redelivery is a duplicate", ack.Duplicates, 1)
	var got messageBody
	e.Get(t, "/v1/messages/"+messageByExternalID(t, e, "quote-1@example.org"), w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	pt.Equal(t, "text", got.Text, "The signed quote.")
	if len(got.Attachments) != 1 || got.Attachments[0].Status != "ready" || got.Attachments[0].MediaID == nil {
		t.Fatalf("the mail's attachments = %+v, want one ready at once", got.Attachments)
	}
	pt.Equal(t, "filename", orEmpty(got.Attachments[0].Filename), "quote.pdf")
	pt.Equal(t, "mime_type", orEmpty(got.Attachments[0].MimeType), "application/pdf")
	stored, data := storedBytes(t, e, w, *got.Attachments[0].MediaID)
	pt.Equal(t, "stored bytes are the part's", bytes.Equal(data, pdfFile), true)
	pt.Equal(t, "owned by the message's contact", stored.ContactID != nil && stored.ContactID.String() == got.ContactID, true)
	pt.Equal(t, "the redelivery's copy is gone", count(t, e, `SELECT count(*) FROM media WHERE filename = 'quote.pdf'`), 1)
}

// orEmpty is *s, or "" for nil.
func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// base64Lines encodes b as a MIME body: base64 in lines of 76.
func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return out.String() + s + "\r\n"
}
