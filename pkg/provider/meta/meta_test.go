package meta_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/meta"
)

func TestVerifySignature(t *testing.T) {
	const secret = "app-secret-123"
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	tests := []struct {
		name   string
		header string
		body   []byte
		secret string
		ok     bool
	}{
		{"correctly signed", meta.Sign(body, secret), body, secret, true},
		{"upper-case hex is accepted", "sha256=" + upperHex(meta.Sign(body, secret)[7:]), body, secret, true},
		{"tampered body", meta.Sign(body, secret), []byte(`{"object":"whatsapp_business_account","entry":[{}]}`), secret, false},
		{"wrong secret", meta.Sign(body, "other-secret"), body, secret, false},
		{"missing header", "", body, secret, false},
		{"sha1 prefix", "sha1=" + meta.Sign(body, secret)[7:], body, secret, false},
		{"not hex", "sha256=zz", body, secret, false},
		{"empty configured secret never verifies", meta.Sign(body, ""), body, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Hub-Signature-256", tc.header)
			}
			err := meta.VerifySignature(h, tc.body, tc.secret)
			if tc.ok && err != nil {
				t.Fatalf("want accepted, got %v", err)
			}
			if !tc.ok && !errors.Is(err, provider.ErrSignature) {
				t.Fatalf("want ErrSignature, got %v", err)
			}
		})
	}
}

func upperHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestHandshake(t *testing.T) {
	tests := []struct {
		name  string
		query string
		token string
		want  string
		ok    bool
	}{
		{"subscribe with the right token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=vt-1", "vt-1", "1158201444", true},
		{"wrong token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope", "vt-1", "", false},
		{"wrong mode", "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=vt-1", "vt-1", "", false},
		{"missing challenge", "hub.mode=subscribe&hub.verify_token=vt-1", "vt-1", "", false},
		{"no token configured", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			got, err := meta.Handshake(q, tc.token)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("Handshake = %q, %v", got, err)
			}
			if !tc.ok && !errors.Is(err, provider.ErrSignature) {
				t.Fatalf("want ErrSignature, got %v", err)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	body := []byte(`{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"AbCdEf"}}`)
	ge, ok := meta.ParseError(body)
	if !ok || ge.Code != 131047 || ge.FBTraceID != "AbCdEf" || ge.ErrorData.Details == "" {
		t.Fatalf("ParseError = %+v, %v", ge, ok)
	}
	if _, ok := meta.ParseError([]byte(`<html>`)); ok {
		t.Error("HTML is not a Graph error")
	}
	if _, ok := meta.ParseError([]byte(`{"id":"1"}`)); ok {
		t.Error("a body without error is not a Graph error")
	}
}
