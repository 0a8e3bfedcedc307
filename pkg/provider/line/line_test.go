package line_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/line"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

const (
	accessToken   = "line-channel-access-token/abc+def="
	channelSecret = "8f5a0c7b2e4d6a1b9c3e5f7a0b2d4c6e"
	messageID     = "0192F0C1-7A2B-7000-8000-00000000ABCD"
)

func client(srv *pt.Server) *line.Client {
	return line.New(line.Config{ChannelAccessToken: accessToken, ChannelSecret: channelSecret, APIBase: srv.URL}, nil)
}

const okReply = `{"sentMessages":[{"id":"461230966842064897","quoteToken":"IStG5h1Tz7b..."}]}`

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name string
		msg  provider.Message
		want string
	}{
		{"text", provider.Message{ID: messageID, To: "U4af4980629e4c0b3f2e3f3e3f3e3f3e3", Text: "Hello, world"},
			`{"to":"U4af4980629e4c0b3f2e3f3e3f3e3f3e3","messages":[{"type":"text","text":"Hello, world"}]}`},
		{"image with caption in one push", provider.Message{ID: messageID, To: "U4af4980629e4c0b3f2e3f3e3f3e3f3e3", Type: "attachment", Text: "the menu",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/menu.jpg", MIMEType: "image/jpeg"}}},
			`{"to":"U4af4980629e4c0b3f2e3f3e3f3e3f3e3","messages":[{"type":"text","text":"the menu"},{"type":"image","originalContentUrl":"https://cdn.example.com/menu.jpg","previewImageUrl":"https://cdn.example.com/menu.jpg"}]}`},
		{"pdf as a link", provider.Message{ID: messageID, To: "U4af4980629e4c0b3f2e3f3e3f3e3f3e3", Type: "attachment", Text: "Invoice",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/inv.pdf", MIMEType: "application/pdf"}}},
			`{"to":"U4af4980629e4c0b3f2e3f3e3f3e3f3e3","messages":[{"type":"text","text":"Invoice"},{"type":"text","text":"https://cdn.example.com/inv.pdf"}]}`},
		{"stored media by its signed link, audio with its length", provider.Message{ID: messageID, To: "U4af4980629e4c0b3f2e3f3e3f3e3f3e3", Type: "attachment",
			Attachments: []provider.Attachment{
				pt.Stored("image/png", "map.png", []byte("\x89PNG"), "https://sb.example.com/v1/media/1/content?signature=a"),
				pt.Stored("audio/x-m4a", "hello.m4a", m4a(0, 44100, 44100*95/10), "https://sb.example.com/v1/media/2/content?signature=b"),
				pt.Stored("application/pdf", "menu.pdf", []byte("%PDF-"), "https://sb.example.com/v1/media/3/content?signature=c"),
				{URL: "https://cdn.example.com/a.m4a", MIMEType: "audio/mp4"},
				pt.Stored("video/mp4", "", []byte("....ftypisom"), "https://sb.example.com/v1/media/4/content?signature=d"),
			}},
			`{"to":"U4af4980629e4c0b3f2e3f3e3f3e3f3e3","messages":[
				{"type":"image","originalContentUrl":"https://sb.example.com/v1/media/1/content?signature=a","previewImageUrl":"https://sb.example.com/v1/media/1/content?signature=a"},
				{"type":"audio","originalContentUrl":"https://sb.example.com/v1/media/2/content?signature=b","duration":9500},
				{"type":"text","text":"menu.pdf\nhttps://sb.example.com/v1/media/3/content?signature=c"},
				{"type":"text","text":"https://cdn.example.com/a.m4a"},
				{"type":"text","text":"https://sb.example.com/v1/media/4/content?signature=d"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Body: okReply})
			res, err := client(srv).Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "461230966842064897")
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, "/v2/bot/message/push")
			pt.Equal(t, "Authorization", r.Header.Get("Authorization"), "Bearer "+accessToken)
			pt.Equal(t, "Content-Type", r.Header.Get("Content-Type"), "application/json")
			pt.Equal(t, "X-Line-Retry-Key", r.Header.Get("X-Line-Retry-Key"), strings.ToLower(messageID))
			pt.JSONEqual(t, r.Body, tc.want)
		})
	}
}

func TestRetryKey(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"uuidv7 is used as is", "0192f0c1-7a2b-7000-8000-00000000abcd", "0192f0c1-7a2b-7000-8000-00000000abcd"},
		{"upper case is lowered", messageID, strings.ToLower(messageID)},
		{"other ids map to a stable uuid", "msg_123", line.RetryKey("msg_123")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := line.RetryKey(tc.id)
			pt.Equal(t, "RetryKey", got, tc.want)
			if !uuid.MatchString(got) {
				t.Errorf("%q is not a UUID", got)
			}
		})
	}
	if line.RetryKey("msg_123") == line.RetryKey("msg_124") {
		t.Error("different ids must give different keys")
	}
}

func TestRetriedSendIsAcceptedOnce(t *testing.T) {
	// First attempt: LINE accepted it but the answer was a 500; the retry carries the same key
	// and gets 409, which is the success of the first attempt.
	srv := pt.NewServer(t,
		pt.Reply{Status: 500, Body: `{"message":"An error occurred in the server"}`},
		pt.Reply{Status: 409, Header: map[string]string{"X-Line-Accepted-Request-Id": "2e3b5a7c-1111-4b7d-9e0f-222222222222"},
			Body: `{"message":"The retry key is already accepted","sentMessages":[{"id":"461230966842064897","quoteToken":"q"}]}`},
	)
	c := client(srv)
	msg := provider.Message{ID: messageID, To: "U1", Text: "hi"}
	_, err := c.Send(context.Background(), msg)
	if err == nil || provider.IsPermanent(err) {
		t.Fatalf("first attempt: want a transient error, got %v", err)
	}
	res, err := c.Send(context.Background(), msg)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "461230966842064897")
	reqs := srv.Requests()
	pt.Equal(t, "same retry key", reqs[0].Header.Get("X-Line-Retry-Key"), reqs[1].Header.Get("X-Line-Retry-Key"))

	t.Run("409 with only the accepted request id", func(t *testing.T) {
		srv := pt.NewServer(t, pt.Reply{Status: 409, Header: map[string]string{"X-Line-Accepted-Request-Id": "2e3b5a7c-1111-4b7d-9e0f-222222222222"},
			Body: `{"message":"The retry key is already accepted"}`})
		res, err := client(srv).Send(context.Background(), msg)
		if err != nil {
			t.Fatal(err)
		}
		pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "2e3b5a7c-1111-4b7d-9e0f-222222222222")
	})
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		id         string
		reply      pt.Reply
		permanent  bool
		code       string
		retryAfter time.Duration
	}{
		{"invalid to", messageID, pt.Reply{Status: 400, Body: `{"message":"The property, 'to', in the request body is invalid (line: -, column: -)"}`}, true, "400", 0},
		{"validation details", messageID, pt.Reply{Status: 400, Body: `{"message":"The request body has 1 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"}]}`}, true, "400", 0},
		{"bad token", messageID, pt.Reply{Status: 401, Body: `{"message":"Authentication failed due to the following reason: invalid token. Confirm that the access token in the authorization header is valid."}`}, true, "401", 0},
		{"rate limited", messageID, pt.Reply{Status: 429, Header: map[string]string{"Retry-After": "60"}, Body: `{"message":"The API rate limit has been exceeded. Try again later."}`}, false, "429", time.Minute},
		{"server error", messageID, pt.Reply{Status: 500, Body: `{"message":"An error occurred in the server"}`}, false, "500", 0},
		{"409 without a retry key is an error", "", pt.Reply{Status: 409, Body: `{"message":"Conflict"}`}, true, "409", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			res, err := client(srv).Send(context.Background(), provider.Message{ID: tc.id, To: "U1", Text: "hi"})
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "Code", e.Code, tc.code)
			pt.Equal(t, "RetryAfter", e.RetryAfter, tc.retryAfter)
			pt.NoSecret(t, err, res, accessToken, channelSecret)
		})
	}
}

// Shape from the webhook event objects reference.
const messageWebhook = `{
  "destination": "xxxxxxxxxx",
  "events": [
    {"type": "message",
     "message": {"type": "text", "id": "14353798921116", "text": "Hello, world", "quoteToken": "q3Plxr4AgKd..."},
     "timestamp": 1625665242211,
     "source": {"type": "user", "userId": "U80696558e1aa831..."},
     "replyToken": "757913772c4646b784d4b7ce46d12671",
     "mode": "active", "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR", "deliveryContext": {"isRedelivery": false}},
    {"type": "message",
     "message": {"type": "image", "id": "354718705033693861", "quoteToken": "yHAz4Ua2wx7...",
                 "contentProvider": {"type": "line"}},
     "timestamp": 1627356924722,
     "source": {"type": "group", "groupId": "Ca56f94637c...", "userId": "U4af4980629..."},
     "replyToken": "bf7b...", "mode": "active", "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZS", "deliveryContext": {"isRedelivery": false}},
    {"type": "message",
     "message": {"type": "file", "id": "325708", "fileName": "invoice.pdf", "fileSize": 2138},
     "timestamp": 1627356924800, "source": {"type": "user", "userId": "U80696558e1aa831..."}, "mode": "active"},
    {"type": "message",
     "message": {"type": "video", "id": "325709", "duration": 60000,
                 "contentProvider": {"type": "external", "originalContentUrl": "https://example.com/original.mp4",
                                     "previewImageUrl": "https://example.com/preview.jpg"}},
     "timestamp": 1627356924900, "source": {"type": "user", "userId": "U80696558e1aa831..."}, "mode": "active"},
    {"type": "message",
     "message": {"type": "sticker", "id": "325710", "packageId": "1", "stickerId": "1"},
     "timestamp": 1627356925000, "source": {"type": "user", "userId": "U80696558e1aa831..."}, "mode": "active"},
    {"type": "follow", "timestamp": 1625665242214, "source": {"type": "user", "userId": "U80696558e1aa831..."},
     "replyToken": "85cbe770fa8b4f45bbe077b1d4be4a36", "mode": "active", "webhookEventId": "01FZ74ASS536FW97EX38NKCZQK",
     "deliveryContext": {"isRedelivery": false}, "follow": {"isUnblocked": false}}
  ]
}`

func TestParse(t *testing.T) {
	ev, err := line.Parse([]byte(messageWebhook))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Inbound) != 4 || len(ev.Receipts) != 0 {
		t.Fatalf("got %+v (the sticker has nothing to show)", ev)
	}
	pt.DeepEqual(t, "text", ev.Inbound[0], provider.Inbound{ExternalID: "14353798921116", From: "U80696558e1aa831...",
		Text: "Hello, world", ReceivedAt: time.UnixMilli(1625665242211).UTC()})
	img := ev.Inbound[1]
	pt.Equal(t, "group message comes from the group", img.From, "Ca56f94637c...")
	pt.DeepEqual(t, "image by message id", img.Attachments, []provider.Attachment{{ID: "354718705033693861"}})
	pt.DeepEqual(t, "file by message id, with its name", ev.Inbound[2].Attachments,
		[]provider.Attachment{{ID: "325708", Filename: "invoice.pdf"}})
	pt.DeepEqual(t, "external content by its URL", ev.Inbound[3].Attachments,
		[]provider.Attachment{{URL: "https://example.com/original.mp4"}})

	verification := `{"destination":"U1","events":[]}`
	if ev, err := line.Parse([]byte(verification)); err != nil || len(ev.Inbound) != 0 {
		t.Errorf("verification request: %+v, %v", ev, err)
	}
	for _, body := range []string{`{"destination":"U1"}`, `nope`} {
		if _, err := line.Parse([]byte(body)); !errors.Is(err, provider.ErrMalformed) {
			t.Errorf("Parse(%s) = %v", body, err)
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte(messageWebhook)
	tests := []struct {
		name   string
		header string
		body   []byte
		ok     bool
	}{
		{"signed", line.Sign(body, channelSecret), body, true},
		{"tampered body", line.Sign(body, channelSecret), []byte(strings.Replace(messageWebhook, "Hello", "Hallo", 1)), false},
		{"wrong secret", line.Sign(body, "another-secret"), body, false},
		{"missing header", "", body, false},
		{"not base64", "%%%", body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Line-Signature", tc.header)
			}
			err := line.Verify(h, tc.body, channelSecret)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, provider.ErrSignature)) {
				t.Fatalf("Verify = %v", err)
			}
			pt.NoSecret(t, err, nil, channelSecret)
		})
	}
}

// m4a is the head of an M4A file: ftyp, an mdat before the moov (as files not made for
// streaming have it), and a movie header of the version with its time scale and duration.
func m4a(version byte, scale uint32, duration uint64) []byte {
	box := func(typ string, body []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(8+len(body))), append([]byte(typ), body...)...)
	}
	mvhd := []byte{version, 0, 0, 0}
	if version == 1 {
		mvhd = append(mvhd, make([]byte, 16)...)
		mvhd = binary.BigEndian.AppendUint32(mvhd, scale)
		mvhd = binary.BigEndian.AppendUint64(mvhd, duration)
	} else {
		mvhd = append(mvhd, make([]byte, 8)...)
		mvhd = binary.BigEndian.AppendUint32(mvhd, scale)
		mvhd = binary.BigEndian.AppendUint32(mvhd, uint32(duration))
	}
	mvhd = append(mvhd, make([]byte, 80)...) // rate, volume, matrix, ...: not read
	out := box("ftyp", []byte("M4A \x00\x00\x00\x00M4A isom"))
	out = append(out, box("mdat", make([]byte, 4096))...)
	return append(out, box("moov", box("mvhd", mvhd))...)
}

// TestAudioLength: LINE's audio message needs the length, read from the movie header of
// either version; a file without one goes as its link.
func TestAudioLength(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"version 0", m4a(0, 1000, 30_000), `{"type":"audio","originalContentUrl":"https://sb.example.com/a","duration":30000}`},
		{"version 1", m4a(1, 48000, 48000*61), `{"type":"audio","originalContentUrl":"https://sb.example.com/a","duration":61000}`},
		{"no time scale", m4a(0, 0, 100), `{"type":"text","text":"a.m4a\nhttps://sb.example.com/a"}`},
		{"no movie header", m4a(0, 1000, 1000)[:4150], `{"type":"text","text":"a.m4a\nhttps://sb.example.com/a"}`},
		{"not an MP4 at all", []byte("ID3 an mp3 sniffed wrong"), `{"type":"text","text":"a.m4a\nhttps://sb.example.com/a"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Body: okReply})
			_, err := client(srv).Send(context.Background(), provider.Message{ID: messageID, To: "U4af4980629e4c0b3f2e3f3e3f3e3f3e3",
				Type: "attachment", Attachments: []provider.Attachment{pt.Stored("audio/x-m4a", "a.m4a", tc.data, "https://sb.example.com/a")}})
			if err != nil {
				t.Fatal(err)
			}
			pt.JSONEqual(t, srv.Only(t).Body, `{"to":"U4af4980629e4c0b3f2e3f3e3f3e3f3e3","messages":[`+tc.want+`]}`)
		})
	}
}

// TestSendRejectsBadAttachments: stored media without its link, and more messages than a push
// takes, fail for good without a call.
func TestSendRejectsBadAttachments(t *testing.T) {
	img := provider.Attachment{URL: "https://cdn.example.com/a.png", MIMEType: "image/png"}
	for name, msg := range map[string]provider.Message{
		"stored media without a link": {To: "U1", Type: "attachment", Attachments: []provider.Attachment{pt.Stored("image/png", "", []byte("x"), "")}},
		"five files and a text":       {To: "U1", Type: "attachment", Text: "hi", Attachments: []provider.Attachment{img, img, img, img, img}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := pt.NewServer(t)
			if _, err := client(srv).Send(context.Background(), msg); !provider.IsPermanent(err) || len(srv.Requests()) != 0 {
				t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
			}
		})
	}
}
