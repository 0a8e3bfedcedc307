package viber_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/viber"
)

const authToken = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"

func client(srv *pt.Server) *viber.Client {
	return viber.New(viber.Config{AuthToken: authToken, SenderName: "Switchboard", APIBase: srv.URL + "/pa"}, nil)
}

const okReply = `{"status":0,"status_message":"ok","message_token":5741311803571721087,"chat_hostname":"SN-CHAT-05_","billing_status":1}`

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name string
		msg  provider.Message
		want string
	}{
		{"text", provider.Message{To: "01234567890A=", Text: "Hello world!"},
			`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"text","text":"Hello world!"}`},
		{"picture with description", provider.Message{To: "01234567890A=", Type: "attachment", Text: "Photo description",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/photo.jpg", MIMEType: "image/jpeg"}}},
			`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"picture","text":"Photo description","media":"https://cdn.example.com/photo.jpg"}`},
		{"other files as url", provider.Message{To: "01234567890A=", Type: "attachment",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/doc.pdf", MIMEType: "application/pdf"}}},
			`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"url","media":"https://cdn.example.com/doc.pdf"}`},
		{"a stored file with its size and name", provider.Message{To: "01234567890A=", Type: "attachment",
			Attachments: []provider.Attachment{pt.Stored("application/pdf", "menu.pdf", []byte("%PDF-1.7"), "https://sb.example.com/v1/media/1/content?s=a")}},
			`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"file","media":"https://sb.example.com/v1/media/1/content?s=a","size":8,"file_name":"menu.pdf"}`},
		{"a stored file without a name", provider.Message{To: "01234567890A=", Type: "attachment",
			Attachments: []provider.Attachment{pt.Stored("application/pdf", "", []byte("%PDF-1.7"), "https://sb.example.com/v1/media/1/content?s=a")}},
			`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"file","media":"https://sb.example.com/v1/media/1/content?s=a","size":8,"file_name":"file.pdf"}`},
		{"a stored video", provider.Message{To: "01234567890A=", Type: "attachment",
			Attachments: []provider.Attachment{pt.Stored("video/mp4", "tour.mp4", []byte("....ftypisom"), "https://sb.example.com/v1/media/2/content?s=b")}},
			`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"video","media":"https://sb.example.com/v1/media/2/content?s=b","size":12}`},
		{"a stored picture", provider.Message{To: "01234567890A=", Type: "attachment", Text: "here",
			Attachments: []provider.Attachment{pt.Stored("image/png", "a.png", []byte("\x89PNG"), "https://sb.example.com/v1/media/3/content?s=c")}},
			`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"picture","text":"here","media":"https://sb.example.com/v1/media/3/content?s=c"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Body: okReply})
			res, err := client(srv).Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID (every digit kept)", res.ProviderMessageID, "5741311803571721087")
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, "/pa/send_message")
			pt.Equal(t, "X-Viber-Auth-Token", r.Header.Get("X-Viber-Auth-Token"), authToken)
			pt.Equal(t, "Content-Type", r.Header.Get("Content-Type"), "application/json")
			pt.JSONEqual(t, r.Body, tc.want)
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		reply      pt.Reply
		permanent  bool
		code       string
		retryAfter time.Duration
	}{
		{"receiver not subscribed", pt.Reply{Body: `{"status":6,"status_message":"receiverNotSubscribed","chat_hostname":"SN-CHAT-01_"}`}, true, "6", 0},
		{"receiver not registered", pt.Reply{Body: `{"status":5,"status_message":"receiverNotRegistered","chat_hostname":"SN-CHAT-01_"}`}, true, "5", 0},
		{"invalid auth token", pt.Reply{Body: `{"status":2,"status_message":"invalidAuthToken"}`}, true, "2", 0},
		{"too many requests is transient", pt.Reply{Body: `{"status":12,"status_message":"Too many requests","message_token":"1234567890","chat_hostname":"SN-CHAT-0x_"}`}, false, "12", 0},
		{"general error is transient", pt.Reply{Body: `{"status":99,"status_message":"generalError"}`}, false, "99", 0},
		{"http 429 with Retry-After", pt.Reply{Status: 429, Header: map[string]string{"Retry-After": "9"}, Body: ``}, false, "429", 9 * time.Second},
		{"http 500", pt.Reply{Status: 500, Body: `oops`}, false, "500", 0},
		{"200 without status", pt.Reply{Body: `{}`}, true, "unreadable_response", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			res, err := client(srv).Send(context.Background(), provider.Message{To: "01234567890A=", Text: "hi"})
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "Code", e.Code, tc.code)
			pt.Equal(t, "RetryAfter", e.RetryAfter, tc.retryAfter)
			pt.NoSecret(t, err, res, authToken)
		})
	}
}

// Shapes from the Viber REST Bot API callbacks section.
const (
	messageCallback = `{"event":"message","timestamp":1457764197627,"chat_hostname":"SN-376_","message_token":4912661846655238145,
 "sender":{"id":"01234567890A=","name":"John McClane","avatar":"http://avatar.example.com","country":"UK","language":"en","api_version":1},
 "message":{"type":"text","text":"a message to the service","tracking_data":"tracking data"}}`
	pictureCallback = `{"event":"message","timestamp":1457764197700,"message_token":4912661846655238146,
 "sender":{"id":"01234567890A=","name":"John McClane"},
 "message":{"type":"picture","text":"look","media":"https://dl-media.viber.com/1/share/2/long/vibes/icon/image/0x0/95e0/5688fdffdaa81fee1e98de5d1e18d15a.jpg","thumbnail":"http://example.com/thumb.jpg"}}`
	deliveredCallback = `{"event":"delivered","timestamp":1457764197627,"chat_hostname":"SN-376_","message_token":4912661846655238145,"user_id":"01234567890A="}`
	seenCallback      = `{"event":"seen","timestamp":1457764197627,"chat_hostname":"SN-376_","message_token":4912661846655238145,"user_id":"01234567890A="}`
	failedCallback    = `{"event":"failed","timestamp":1457764197627,"chat_hostname":"SN-376_","message_token":4912661846655238145,"user_id":"01234567890A=","desc":"failure description"}`
)

func TestParse(t *testing.T) {
	at := time.UnixMilli(1457764197627).UTC()
	tests := []struct {
		name     string
		body     string
		inbound  *provider.Inbound
		receipt  *provider.Receipt
		attached []provider.Attachment
	}{
		{"text message", messageCallback, &provider.Inbound{ExternalID: "4912661846655238145", From: "01234567890A=", ContactName: "John McClane",
			Text: "a message to the service", ReceivedAt: at}, nil, nil},
		{"picture message", pictureCallback, &provider.Inbound{ExternalID: "4912661846655238146", From: "01234567890A=", ContactName: "John McClane",
			Text: "look", ReceivedAt: time.UnixMilli(1457764197700).UTC()}, nil,
			[]provider.Attachment{{URL: "https://dl-media.viber.com/1/share/2/long/vibes/icon/image/0x0/95e0/5688fdffdaa81fee1e98de5d1e18d15a.jpg"}}},
		{"file message", `{"event":"message","timestamp":1457764197800,"message_token":4912661846655238147,
 "sender":{"id":"01234567890A=","name":"John McClane"},
 "message":{"type":"file","media":"https://dl-media.viber.com/5/media/2/short/any/sig/image/0x0/dd51/1cb8.pdf","size":10000,"file_name":"invoice.pdf"}}`,
			&provider.Inbound{ExternalID: "4912661846655238147", From: "01234567890A=", ContactName: "John McClane",
				ReceivedAt: time.UnixMilli(1457764197800).UTC()}, nil,
			[]provider.Attachment{{URL: "https://dl-media.viber.com/5/media/2/short/any/sig/image/0x0/dd51/1cb8.pdf", Filename: "invoice.pdf", Size: 10000}}},
		{"delivered", deliveredCallback, nil, &provider.Receipt{ProviderMessageID: "4912661846655238145", Recipient: "01234567890A=", Status: "delivered", At: at}, nil},
		{"seen", seenCallback, nil, &provider.Receipt{ProviderMessageID: "4912661846655238145", Recipient: "01234567890A=", Status: "read", At: at}, nil},
		{"failed", failedCallback, nil, &provider.Receipt{ProviderMessageID: "4912661846655238145", Recipient: "01234567890A=", Status: "failed", At: at, ErrorText: "failure description"}, nil},
		{"subscribed carries nothing", `{"event":"subscribed","timestamp":1457764197627,"user":{"id":"01234567890A=","name":"John McClane"},"message_token":4912661846655238145}`, nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := viber.Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if (tc.inbound != nil) != (len(ev.Inbound) == 1) || (tc.receipt != nil) != (len(ev.Receipts) == 1) {
				t.Fatalf("got %+v", ev)
			}
			if tc.inbound != nil {
				want := *tc.inbound
				want.Attachments = tc.attached
				pt.DeepEqual(t, "inbound", ev.Inbound[0], want)
			}
			if tc.receipt != nil {
				pt.Equal(t, "receipt", ev.Receipts[0], *tc.receipt)
			}
		})
	}
	for _, body := range []string{`{"timestamp":1}`, `{`} {
		if _, err := viber.Parse([]byte(body)); !errors.Is(err, provider.ErrMalformed) {
			t.Errorf("Parse(%s) = %v", body, err)
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte(messageCallback)
	tests := []struct {
		name   string
		header string
		body   []byte
		ok     bool
	}{
		{"signed", viber.Sign(body, authToken), body, true},
		{"tampered body", viber.Sign(body, authToken), []byte(strings.Replace(messageCallback, "service", "servicE", 1)), false},
		{"wrong token", viber.Sign(body, "other"), body, false},
		{"missing header", "", body, false},
		{"not hex", "xyz", body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Viber-Content-Signature", tc.header)
			}
			err := viber.Verify(h, tc.body, authToken)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, provider.ErrSignature)) {
				t.Fatalf("Verify = %v", err)
			}
			pt.NoSecret(t, err, nil, authToken)
		})
	}
}
