package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// Files the sniffer knows by their first bytes.
var (
	jpegBytes = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), bytes.Repeat([]byte{9}, 2000)...)
	pdfBytes  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + strings.Repeat("stream \x00\x01\x02\x03 ", 300) + "\n%%EOF\n")
)

// mp4 is an MP4 video of size bytes: an ftyp box, then zeros.
func mp4(size int) []byte {
	b := make([]byte, size)
	copy(b, "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	return b
}

// mediaProblem is a refusal's detail and fields.
type mediaProblem struct {
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func refusal(t *testing.T, r *apitest.Response, code string) mediaProblem {
	t.Helper()
	var p mediaProblem
	r.ExpectProblem(t, http.StatusUnprocessableEntity, code).JSON(t, &p)
	return p
}

// whatsAppChannel connects a WhatsApp Cloud channel whose Graph API is graph, and a customer who
// wrote in on it (the window is open).
func whatsAppChannel(t *testing.T, e *apitest.Env, w *apitest.Workspace, graph *pt.Server) (channel, contact string) {
	t.Helper()
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "106540352242922", "access_token": "EAAG-access-token", "app_secret": "app-secret",
			"api_base": graph.URL + "/v25.0"}}).Expect(t, http.StatusCreated).JSON(t, &ch)
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "+16505551234", "text": "Do you have it in red?"})
	return ch.ID, in.Contact.ID
}

// TestSendStoredMediaToWhatsApp is issue 15's acceptance on WhatsApp Cloud: a file uploaded
// with POST /v1/media and sent by its media id reaches the fake Graph API as a media upload of
// the exact bytes and type, then as an image message naming the id the upload answered; the
// message answers with the resolved attachment and reaches sent.
func TestSendStoredMediaToWhatsApp(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	graph := pt.NewServer(t, pt.Reply{Body: `{"id":"4490709327384033"}`},
		pt.Reply{Body: `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.MEDIA1"}]}`})
	_, contact := whatsAppChannel(t, e, w, graph)

	m := upload(t, e, w.OwnerToken, "red.jpg", jpegBytes)
	pt.Equal(t, "sniffed type", m.MimeType, "image/jpeg")
	var sent sendBody
	e.Post(t, "/v1/contacts/"+contact+"/messages", w.OwnerToken, map[string]any{"type": "attachment", "text": "The red one",
		"attachments": []any{map[string]any{"media_id": m.ID}}}).Expect(t, http.StatusCreated).JSON(t, &sent)
	if a := sent.Message.Attachments; len(a) != 1 || a[0].MediaID == nil || *a[0].MediaID != m.ID || *a[0].MimeType != "image/jpeg" ||
		a[0].Size == nil || *a[0].Size != int64(len(jpegBytes)) || a[0].Filename == nil || *a[0].Filename != "red.jpg" || a[0].Status != "ready" || a[0].URL != nil {
		t.Fatalf("attachments %s", e.Get(t, "/v1/messages/"+sent.Message.ID, w.OwnerToken).Body)
	}

	got := waitMessage(t, e, w.OwnerToken, sent.Message.ID, "sent")
	pt.Equal(t, "provider_message_id", *got.ProviderMessageID, "wamid.MEDIA1")
	reqs := graph.Requests()
	if len(reqs) != 2 {
		t.Fatalf("the Graph API got %d requests, want the upload and the message", len(reqs))
	}
	up := reqs[0]
	pt.Equal(t, "upload path", up.Path, "/v25.0/106540352242922/media")
	pt.Equal(t, "upload Authorization", up.Header.Get("Authorization"), "Bearer EAAG-access-token")
	form := up.Form(t)
	pt.Equal(t, "uploaded bytes", form["file"].Data, string(jpegBytes))
	pt.Equal(t, "uploaded part's type", form["file"].ContentType, "image/jpeg")
	pt.Equal(t, "uploaded file name", form["file"].Filename, "red.jpg")
	pt.Equal(t, "type", form["type"].Data, "image/jpeg")
	pt.Equal(t, "messaging_product", form["messaging_product"].Data, "whatsapp")
	pt.Equal(t, "message path", reqs[1].Path, "/v25.0/106540352242922/messages")
	pt.JSONEqual(t, reqs[1].Body, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234",
		"type":"image","image":{"id":"4490709327384033","caption":"The red one"}}`)
}

// TestSendAttachmentRefusals: what WhatsApp cannot carry is refused before anything is queued,
// naming the limit and the attachment (no message, no job, no count); more than ten is
// invalid whatever the channel; a media id of another workspace is no media at all.
func TestSendAttachmentRefusals(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	graph := pt.NewServer(t)
	_, contact := whatsAppChannel(t, e, w, graph)
	send := func(body map[string]any) *apitest.Response {
		return e.Post(t, "/v1/contacts/"+contact+"/messages", w.OwnerToken, body)
	}
	state := func() [4]int {
		return [4]int{count(t, e, `SELECT count(*) FROM messages WHERE direction = 'outgoing'`),
			count(t, e, `SELECT count(*) FROM river_job`),
			count(t, e, `SELECT coalesce(sum(outbound_since_inbound), 0)::int FROM contact_identities`),
			count(t, e, `SELECT count(*) FROM events WHERE type = 'message.created'`)}
	}
	before := state()

	video := upload(t, e, w.OwnerToken, "tour.mp4", mp4(17_000_000))
	pt.Equal(t, "sniffed type", video.MimeType, "video/mp4")
	p := refusal(t, send(map[string]any{"type": "attachment", "attachments": []any{map[string]any{"media_id": video.ID}}}), "attachment_not_supported")
	pt.Equal(t, "detail", p.Detail, "WhatsApp Cloud takes video up to 16 MB (video/mp4, video/3gpp); this file is 17 MB.")
	if len(p.Errors) != 1 || p.Errors[0].Field != "attachments[0]" || p.Errors[0].Message != p.Detail {
		t.Errorf("errors %+v", p.Errors)
	}

	photo := upload(t, e, w.OwnerToken, "a.jpg", jpegBytes)
	p = refusal(t, send(map[string]any{"type": "attachment", "attachments": []any{map[string]any{"media_id": photo.ID},
		map[string]any{"url": "https://cdn.example.com/b.jpg", "mime_type": "image/jpeg"}}}), "attachment_not_supported")
	pt.Equal(t, "two files", p.Detail, "WhatsApp Cloud takes one attachment per message.")
	if len(p.Errors) != 1 || p.Errors[0].Field != "attachments[1]" {
		t.Errorf("errors %+v", p.Errors)
	}
	p = refusal(t, send(map[string]any{"type": "attachment", "text": strings.Repeat("é", 1025), "attachments": []any{
		map[string]any{"media_id": photo.ID}}}), "attachment_not_supported")
	pt.Equal(t, "a long caption", p.Detail, "WhatsApp Cloud takes a caption of up to 1024 characters with a file; this text has 1025.")
	if len(p.Errors) != 1 || p.Errors[0].Field != "text" {
		t.Errorf("errors %+v", p.Errors)
	}
	p = refusal(t, send(map[string]any{"type": "attachment", "attachments": []any{
		map[string]any{"url": "https://cdn.example.com/a.zip", "mime_type": "application/zip"}}}), "attachment_not_supported")
	if !strings.HasPrefix(p.Detail, "WhatsApp Cloud cannot carry files of type application/zip; it takes image (image/jpeg, image/png), ") {
		t.Errorf("a zip: %s", p.Detail)
	}

	eleven := make([]any, 11)
	for i := range eleven {
		eleven[i] = map[string]any{"media_id": photo.ID}
	}
	p = refusal(t, send(map[string]any{"type": "attachment", "attachments": eleven}), "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "attachments" || p.Errors[0].Message != "must hold 1 to 10 files" {
		t.Errorf("eleven attachments: %+v", p.Errors)
	}

	other := e.NewWorkspace(t, "Other")
	theirs := upload(t, e, other.OwnerToken, "theirs.jpg", jpegBytes)
	for _, id := range []string{theirs.ID, "0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4fa0"} {
		p = refusal(t, send(map[string]any{"type": "attachment", "attachments": []any{map[string]any{"media_id": id}}}), "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0].Field != "attachments[0].media_id" || p.Errors[0].Message != "no such media in this workspace" {
			t.Errorf("media %s: %+v", id, p.Errors)
		}
	}

	if after := state(); after != before {
		t.Errorf("refused sends changed (outgoing messages, jobs, outbound counts, message events) from %v to %v", before, after)
	}
	if n := len(graph.Requests()); n != 0 {
		t.Errorf("the Graph API got %d requests", n)
	}
}

// TestInboundStoredMedia: a message handed in through the API may name the workspace's media;
// its attachment is resolved like a send's, and another workspace's media is none.
func TestInboundStoredMedia(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "custom")
	m := upload(t, e, w.OwnerToken, "scan.pdf", pdfBytes)
	in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "visitor-1", "attachments": []any{map[string]any{"media_id": m.ID, "filename": "Receipt.pdf"}}})
	if a := in.Message.Attachments; in.Message.Type != "attachment" || len(a) != 1 || *a[0].MediaID != m.ID || *a[0].MimeType != "application/pdf" ||
		*a[0].Size != int64(len(pdfBytes)) || *a[0].Filename != "Receipt.pdf" || a[0].Status != "ready" {
		t.Fatalf("inbound attachment %+v", in.Message)
	}
	theirs := upload(t, e, e.NewWorkspace(t, "Other").OwnerToken, "x.pdf", pdfBytes)
	p := refusal(t, e.Post(t, "/v1/channels/"+ch+"/inbound", w.APIKey, map[string]any{"identifier": "visitor-1",
		"attachments": []any{map[string]any{"url": "https://cdn.example.com/a.png", "mime_type": "image/png"}, map[string]any{"media_id": theirs.ID}}}),
		"validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "attachments[1].media_id" {
		t.Errorf("errors %+v", p.Errors)
	}
}

// TestSendLinkToTelegram: a link goes to Telegram as the documented sendPhoto body, the text
// as its caption.
func TestSendLinkToTelegram(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	tg := pt.NewServer(t, pt.Reply{Body: `{"ok":true,"result":{"message_id":77,"chat":{"id":1111111,"type":"private"},"date":1}}`})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "telegram", "name": "TG", "provider": "telegram",
		"config": map[string]any{"bot_token": "7012345678:AAE-secret", "secret_token": "tg-hook-secret", "api_base": tg.URL}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "1111111", "text": "hi"})
	var sent sendBody
	e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "attachment", "text": "Our menu",
		"attachments": []any{map[string]any{"url": "https://cdn.example.com/menu.jpg", "mime_type": "image/jpeg"}}}).
		Expect(t, http.StatusCreated).JSON(t, &sent)
	waitMessage(t, e, w.OwnerToken, sent.Message.ID, "sent")
	r := tg.Only(t)
	pt.Equal(t, "path", r.Path, "/bot7012345678:AAE-secret/sendPhoto")
	pt.JSONEqual(t, r.Body, `{"chat_id":1111111,"photo":"https://cdn.example.com/menu.jpg","caption":"Our menu"}`)
}

// TestSendStoredPDFByEmail: a stored PDF reaches the SMTP server as a MIME part of the mail:
// base64 of the exact bytes, with its type and file name, after the text.
func TestSendStoredPDFByEmail(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	f := pt.StartSMTP(t, &pt.SMTP{})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "email", "name": "Mail", "provider": "smtp",
		"config": map[string]any{"host": "127.0.0.1", "port": f.Port, "tls": "none", "from": "Acme <support@acme.example>"}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "ann@example.com", "text": "Where is my invoice?"})
	m := upload(t, e, w.OwnerToken, "invoice-12345.pdf", pdfBytes)
	var sent sendBody
	e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "attachment", "text": "Here it is.",
		"attachments": []any{map[string]any{"media_id": m.ID}}}).Expect(t, http.StatusCreated).JSON(t, &sent)
	waitMessage(t, e, w.OwnerToken, sent.Message.ID, "sent")

	msg, err := mail.ReadMessage(strings.NewReader(f.Only(t).Data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	text, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(text)
	pt.Equal(t, "text", strings.TrimSpace(string(body)), "Here it is.")
	file, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	pt.Equal(t, "file type", file.Header.Get("Content-Type"), `application/pdf; name=invoice-12345.pdf`)
	pt.Equal(t, "disposition", file.Header.Get("Content-Disposition"), "attachment; filename=invoice-12345.pdf")
	pt.Equal(t, "encoding", file.Header.Get("Content-Transfer-Encoding"), "base64")
	encoded, _ := io.ReadAll(file)
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(encoded), "\r\n", ""))
	if err != nil || !bytes.Equal(data, pdfBytes) {
		t.Errorf("the attached file differs from the upload (%v)", err)
	}
	if _, err := r.NextPart(); !errors.Is(err, io.EOF) {
		t.Errorf("after the file: %v", err)
	}
}

// TestSendStoredMediaByLink: a provider that fetches files (LINE) gets a signed link to the
// public content route under PUBLIC_BASE_URL, which serves the exact bytes without a token;
// without PUBLIC_BASE_URL such a send is refused up front.
func TestSendStoredMediaByLink(t *testing.T) {
	const public = "https://sb.example.com"
	for _, base := range []string{public, ""} {
		e := providerEnv(t, func(c *config.Config) { c.PublicBaseURL = base })
		w := e.NewWorkspace(t, "Acme")
		line := pt.NewServer(t, pt.Reply{Body: `{"sentMessages":[{"id":"461230966842064897","quoteToken":"q"}]}`})
		var ch channelBody
		e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "line", "name": "LINE", "provider": "line",
			"config": map[string]any{"channel_access_token": "line-token", "channel_secret": "line-secret", "api_base": line.URL}}).
			Expect(t, http.StatusCreated).JSON(t, &ch)
		in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "U4af4980629e4c0b3f2e3f3e3f3e3f3e3", "text": "hi"})
		m := upload(t, e, w.OwnerToken, "map.jpg", jpegBytes)
		body := map[string]any{"type": "attachment", "text": "Find us here", "attachments": []any{map[string]any{"media_id": m.ID}}}
		if base == "" {
			p := refusal(t, e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, body), "attachment_not_supported")
			pt.Equal(t, "detail", p.Detail, "LINE fetches files by URL, and this server has no public URL (PUBLIC_BASE_URL) for it to fetch stored media from; send a link instead.")
			continue
		}
		var sent sendBody
		e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, body).Expect(t, http.StatusCreated).JSON(t, &sent)
		waitMessage(t, e, w.OwnerToken, sent.Message.ID, "sent")
		var push struct {
			Messages []struct {
				Type               string `json:"type"`
				Text               string `json:"text"`
				OriginalContentURL string `json:"originalContentUrl"`
				PreviewImageURL    string `json:"previewImageUrl"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(line.Only(t).Body, &push); err != nil {
			t.Fatal(err)
		}
		if len(push.Messages) != 2 || push.Messages[0].Text != "Find us here" || push.Messages[1].Type != "image" ||
			push.Messages[1].PreviewImageURL != push.Messages[1].OriginalContentURL ||
			!strings.HasPrefix(push.Messages[1].OriginalContentURL, public+"/v1/media/"+m.ID+"/content?") {
			t.Fatalf("push %+v", push)
		}
		// LINE fetches it, without a token.
		link := strings.TrimPrefix(push.Messages[1].OriginalContentURL, public)
		got := e.Do(t, apitest.Request{Method: http.MethodGet, Path: link}).Expect(t, http.StatusOK)
		if !bytes.Equal(got.Body, jpegBytes) {
			t.Errorf("the link serves %d other bytes", len(got.Body))
		}
	}
}
