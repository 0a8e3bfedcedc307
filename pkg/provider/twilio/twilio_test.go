package twilio_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/twilio"
)

const (
	accountSID = "AC00000000000000000000000000000001"
	authToken  = "twilio-auth-token-9f8e7d"
)

const createdReply = `{"account_sid":"AC00000000000000000000000000000001","api_version":"2010-04-01","body":"hi",
 "date_created":"Thu, 05 Nov 2026 12:00:00 +0000","direction":"outbound-api","error_code":null,"error_message":null,
 "from":"+15017122661","messaging_service_sid":null,"num_media":"0","num_segments":"1","price":null,
 "sid":"SM1f0e8ae6ade43cb3c0ce4525424e404f","status":"queued","to":"+15558675310",
 "uri":"/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json"}`

func client(srv *pt.Server, cfg twilio.Config) *twilio.Client {
	cfg.AccountSID = accountSID
	cfg.AuthToken = authToken
	cfg.APIBase = srv.URL
	return twilio.New(cfg, nil)
}

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name string
		cfg  twilio.Config
		msg  provider.Message
		want url.Values
	}{
		{"sms from a number with status callback", twilio.Config{From: "+15017122661"},
			provider.Message{To: "+15558675310", Text: "Your table is ready.", StatusCallbackURL: "https://sb.example.com/webhooks/ch1/twilio"},
			url.Values{"To": {"+15558675310"}, "From": {"+15017122661"}, "Body": {"Your table is ready."},
				"StatusCallback": {"https://sb.example.com/webhooks/ch1/twilio"}}},
		{"messaging service wins over from", twilio.Config{From: "+15017122661", MessagingServiceSID: "MG9752274e9e519418a7406176694466fa"},
			provider.Message{To: "+15558675310", Text: "hi"},
			url.Values{"To": {"+15558675310"}, "MessagingServiceSid": {"MG9752274e9e519418a7406176694466fa"}, "Body": {"hi"}}},
		{"whatsapp prefixes both addresses", twilio.Config{From: "+14155238886", WhatsApp: true},
			provider.Message{To: "+15558675310", Text: "hola"},
			url.Values{"To": {"whatsapp:+15558675310"}, "From": {"whatsapp:+14155238886"}, "Body": {"hola"}}},
		{"whatsapp prefix is not doubled", twilio.Config{From: "whatsapp:+14155238886", WhatsApp: true},
			provider.Message{To: "whatsapp:+15558675310", Text: "hola"},
			url.Values{"To": {"whatsapp:+15558675310"}, "From": {"whatsapp:+14155238886"}, "Body": {"hola"}}},
		{"media with caption", twilio.Config{From: "+15017122661"},
			provider.Message{To: "+15558675310", Type: "attachment", Text: "map",
				Attachments: []provider.Attachment{{URL: "https://cdn.example.com/map.png", MIMEType: "image/png"}}},
			url.Values{"To": {"+15558675310"}, "From": {"+15017122661"}, "Body": {"map"}, "MediaUrl": {"https://cdn.example.com/map.png"}}},
		{"several files, stored ones by their signed link", twilio.Config{From: "+15017122661"},
			provider.Message{To: "+15558675310", Type: "attachment",
				Attachments: []provider.Attachment{{URL: "https://cdn.example.com/map.png", MIMEType: "image/png"},
					pt.Stored("application/pdf", "menu.pdf", []byte("%PDF-"), "https://sb.example.com/v1/media/0193/content?signature=x")}},
			url.Values{"To": {"+15558675310"}, "From": {"+15017122661"},
				"MediaUrl": {"https://cdn.example.com/map.png", "https://sb.example.com/v1/media/0193/content?signature=x"}}},
		{"content template", twilio.Config{From: "+14155238886", WhatsApp: true},
			provider.Message{To: "+15558675310", Type: "template", Template: &provider.Template{Name: "HXb5b62575e6e4ff6129ad7c8efe1f983e", Language: "en", Variables: []string{"12/1", "3pm"}}},
			url.Values{"To": {"whatsapp:+15558675310"}, "From": {"whatsapp:+14155238886"},
				"ContentSid": {"HXb5b62575e6e4ff6129ad7c8efe1f983e"}, "ContentVariables": {`{"1":"12/1","2":"3pm"}`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Status: 201, Body: createdReply})
			res, err := client(srv, tc.cfg).Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "SM1f0e8ae6ade43cb3c0ce4525424e404f")
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, "/2010-04-01/Accounts/"+accountSID+"/Messages.json")
			pt.Equal(t, "Content-Type", r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
			pt.Equal(t, "Authorization", r.Header.Get("Authorization"),
				"Basic "+base64.StdEncoding.EncodeToString([]byte(accountSID+":"+authToken)))
			got, err := url.ParseQuery(string(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			if got.Encode() != tc.want.Encode() {
				t.Errorf("form = %s\nwant   %s", got.Encode(), tc.want.Encode())
			}
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
		{"invalid To", pt.Reply{Status: 400, Body: `{"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`}, true, "21211", 0},
		{"unverified trial number", pt.Reply{Status: 400, Body: `{"code": 21608, "message": "The number +15558675310 is unverified. Trial accounts cannot send messages to unverified numbers.", "more_info": "https://www.twilio.com/docs/errors/21608", "status": 400}`}, true, "21608", 0},
		{"too many requests", pt.Reply{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`}, false, "20429", 3 * time.Second},
		{"server error", pt.Reply{Status: 500, Body: `{"code": 20500, "message": "Internal Server Error", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500}`}, false, "20500", 0},
		{"authentication error", pt.Reply{Status: 401, Body: `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`}, true, "20003", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			res, err := client(srv, twilio.Config{From: "+15017122661"}).Send(context.Background(), provider.Message{To: "+15558675310", Text: "hi"})
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "Code", e.Code, tc.code)
			pt.Equal(t, "RetryAfter", e.RetryAfter, tc.retryAfter)
			pt.NoSecret(t, err, res, authToken, base64.StdEncoding.EncodeToString([]byte(accountSID+":"+authToken)))
		})
	}
}

func TestSendWithoutSender(t *testing.T) {
	srv := pt.NewServer(t)
	_, err := client(srv, twilio.Config{}).Send(context.Background(), provider.Message{To: "+15558675310", Text: "hi"})
	if !provider.IsPermanent(err) || len(srv.Requests()) != 0 {
		t.Fatalf("want a permanent error without a request, got %v", err)
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// A published example of Twilio's scheme (URL with query + sorted parameters).
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	got := twilio.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	pt.Equal(t, "signature", got, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
}

const hookURL = "https://sb.example.com/webhooks/0192f0c1-aaaa-7000-8000-000000000001/twilio"

func TestVerify(t *testing.T) {
	form := url.Values{"MessageSid": {"SM1f0e8ae6ade43cb3c0ce4525424e404f"}, "MessageStatus": {"delivered"},
		"To": {"+15558675310"}, "From": {"+15017122661"}, "AccountSid": {accountSID}, "ApiVersion": {"2010-04-01"}}
	body := []byte(form.Encode())
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("MessageStatus", "read")
	jsonBody := []byte(`{"event":"x"}`)
	sum := sha256.Sum256(jsonBody)
	jsonURL := hookURL + "?bodySHA256=" + hex.EncodeToString(sum[:])

	tests := []struct {
		name   string
		header string
		body   []byte
		url    string
		ok     bool
	}{
		{"signed form", twilio.Sign(authToken, hookURL, form), body, hookURL, true},
		{"signed with the explicit default port", twilio.Sign(authToken, "https://sb.example.com:443/webhooks/0192f0c1-aaaa-7000-8000-000000000001/twilio", form), body, hookURL, true},
		{"tampered form", twilio.Sign(authToken, hookURL, form), []byte(tampered.Encode()), hookURL, false},
		{"wrong token", twilio.Sign("other-token", hookURL, form), body, hookURL, false},
		{"other url", twilio.Sign(authToken, hookURL+"x", form), body, hookURL, false},
		{"missing header", "", body, hookURL, false},
		{"json body with bodySHA256", twilio.Sign(authToken, jsonURL, nil), jsonBody, jsonURL, true},
		{"json body tampered", twilio.Sign(authToken, jsonURL, nil), []byte(`{"event":"y"}`), jsonURL, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Twilio-Signature", tc.header)
			}
			err := twilio.Verify(h, tc.body, authToken, tc.url)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, provider.ErrSignature)) {
				t.Fatalf("Verify = %v", err)
			}
			pt.NoSecret(t, err, nil, authToken)
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		form     string
		inbound  []provider.Inbound
		receipts []provider.Receipt
	}{
		{"incoming sms",
			"ToCountry=US&ToState=CA&SmsMessageSid=SM11&NumMedia=0&ToCity=&FromZip=&SmsSid=SM11&FromState=NY&SmsStatus=received&FromCity=&Body=Is+it+open+today%3F&FromCountry=US&To=%2B15017122661&ToZip=&NumSegments=1&MessageSid=SM11&AccountSid=" + accountSID + "&From=%2B15558675310&ApiVersion=2010-04-01",
			[]provider.Inbound{{ExternalID: "SM11", From: "+15558675310", Text: "Is it open today?"}}, nil},
		{"incoming whatsapp with media and profile name",
			"SmsMessageSid=MM22&NumMedia=1&ProfileName=Ana+Ruiz&MessageType=image&SmsSid=MM22&WaId=15558675310&SmsStatus=received&Body=&To=whatsapp%3A%2B14155238886&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FMM22%2FMedia%2FME33&NumSegments=1&MessageSid=MM22&AccountSid=" + accountSID + "&From=whatsapp%3A%2B15558675310&ApiVersion=2010-04-01",
			[]provider.Inbound{{ExternalID: "MM22", From: "+15558675310", ContactName: "Ana Ruiz",
				Attachments: []provider.Attachment{{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM22/Media/ME33", MIMEType: "image/jpeg"}}}}, nil},
		{"incoming mms with two files",
			"SmsMessageSid=MM23&NumMedia=2&SmsSid=MM23&SmsStatus=received&Body=both+sides&To=%2B15017122661" +
				"&MediaContentType0=image%2Fpng&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FMM23%2FMedia%2FME1" +
				"&MediaContentType1=application%2Fpdf&MediaUrl1=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FMessages%2FMM23%2FMedia%2FME2" +
				"&MessageSid=MM23&AccountSid=" + accountSID + "&From=%2B15558675310&ApiVersion=2010-04-01",
			[]provider.Inbound{{ExternalID: "MM23", From: "+15558675310", Text: "both sides", Attachments: []provider.Attachment{
				{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM23/Media/ME1", MIMEType: "image/png"},
				{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM23/Media/ME2", MIMEType: "application/pdf"}}}}, nil},
		{"delivered callback",
			"SmsSid=SM44&SmsStatus=delivered&MessageStatus=delivered&To=%2B15558675310&MessageSid=SM44&AccountSid=" + accountSID + "&From=%2B15017122661&ApiVersion=2010-04-01",
			nil, []provider.Receipt{{ProviderMessageID: "SM44", Recipient: "+15558675310", Status: "delivered"}}},
		{"undelivered callback with error code",
			"ErrorCode=30003&SmsSid=SM55&SmsStatus=undelivered&MessageStatus=undelivered&To=%2B15558675310&MessageSid=SM55&AccountSid=" + accountSID + "&From=%2B15017122661&ApiVersion=2010-04-01",
			nil, []provider.Receipt{{ProviderMessageID: "SM55", Recipient: "+15558675310", Status: "failed", ErrorCode: "30003"}}},
		{"whatsapp read callback",
			"ChannelPrefix=whatsapp&MessageStatus=read&To=whatsapp%3A%2B15558675310&MessageSid=SM66&AccountSid=" + accountSID + "&From=whatsapp%3A%2B14155238886&ApiVersion=2010-04-01",
			nil, []provider.Receipt{{ProviderMessageID: "SM66", Recipient: "+15558675310", Status: "read"}}},
		{"queued callback is not a report",
			"MessageStatus=queued&To=%2B15558675310&MessageSid=SM77&AccountSid=" + accountSID, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := twilio.Parse([]byte(tc.form))
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Inbound) != len(tc.inbound) || len(ev.Receipts) != len(tc.receipts) {
				t.Fatalf("got %+v", ev)
			}
			for i, want := range tc.inbound {
				pt.DeepEqual(t, "inbound", ev.Inbound[i], want)
			}
			for i, want := range tc.receipts {
				pt.Equal(t, "receipt", ev.Receipts[i], want)
			}
		})
	}
	if _, err := twilio.Parse([]byte("Body=hi")); !errors.Is(err, provider.ErrMalformed) {
		t.Errorf("a form without MessageSid: %v", err)
	}
	if _, err := twilio.Parse([]byte("%zz")); !errors.Is(err, provider.ErrMalformed) {
		t.Errorf("a broken form: %v", err)
	}
}

// TestSendStoredMediaWithoutALink: stored media without its signed link (the server lost its
// PUBLIC_BASE_URL after the send was accepted) fails for good, without a call.
func TestSendStoredMediaWithoutALink(t *testing.T) {
	srv := pt.NewServer(t)
	_, err := client(srv, twilio.Config{From: "+15017122661"}).Send(context.Background(), provider.Message{To: "+15558675310",
		Type: "attachment", Attachments: []provider.Attachment{pt.Stored("image/png", "a.png", []byte("\x89PNG"), "")}})
	if !provider.IsPermanent(err) || len(srv.Requests()) != 0 {
		t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
	}
}
