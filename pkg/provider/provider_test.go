package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/provider"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"empty", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"seconds with spaces", " 5 ", 5 * time.Second},
		{"zero", "0", 0},
		{"negative", "-3", 0},
		{"http date in the future", "Tue, 03 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"http date in the past", "Tue, 03 Nov 2026 09:00:00 GMT", 0},
		{"rfc 850 date", "Tuesday, 03-Nov-26 10:01:00 GMT", time.Minute},
		{"garbage", "soon", 0},
		{"huge seconds are clamped", "99999999999999", 24 * time.Hour},
		{"far date is clamped", "Tue, 03 Nov 2099 10:00:00 GMT", 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := provider.ParseRetryAfter(tc.value, now); got != tc.want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

func TestFromResponse(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		retryAfter    string
		wantPermanent bool
		wantRetry     time.Duration
		wantCode      string
	}{
		{"bad request is permanent", 400, "", true, 0, "400"},
		{"unauthorized is permanent", 401, "", true, 0, "401"},
		{"not found is permanent", 404, "", true, 0, "404"},
		{"request timeout is transient", 408, "", false, 0, "408"},
		{"too many requests with retry-after", 429, "7", false, 7 * time.Second, "429"},
		{"internal error is transient", 500, "", false, 0, "500"},
		{"unavailable with retry-after", 503, "60", false, time.Minute, "503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &provider.Response{StatusCode: tc.status, Header: http.Header{}}
			if tc.retryAfter != "" {
				resp.Header.Set("Retry-After", tc.retryAfter)
			}
			e := provider.FromResponse("test", resp, "", "")
			if e.Permanent != tc.wantPermanent || e.RetryAfter != tc.wantRetry || e.Code != tc.wantCode || e.HTTPStatus != tc.status {
				t.Errorf("got %+v", e)
			}
			if provider.IsPermanent(e) != tc.wantPermanent {
				t.Errorf("IsPermanent = %v", !tc.wantPermanent)
			}
		})
	}
}

func TestFromTransportDropsTheURL(t *testing.T) {
	// Telegram's token is in the path: a transport error must not print the URL.
	secret := "123456:AAH-secret-token"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := provider.Request(ctx, "telegram", "http://127.0.0.1:1/bot"+secret+"/sendMessage", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = provider.Do(http.DefaultClient, "telegram", req)
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "127.0.0.1:1/bot") {
		t.Errorf("transport error leaks the URL: %v", err)
	}
	if provider.IsPermanent(err) {
		t.Error("a transport error must be transient")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
	}
}

// TestRefusedDestination: a destination egress refused (a tenant's api_base or webhook URL
// on loopback) is a permanent error with one fixed text, made before any connection.
func TestRefusedDestination(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the refused destination was called")
	}))
	defer srv.Close()
	req, err := provider.Request(context.Background(), "line", srv.URL+"/v2/bot/message/push", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = provider.Do(egress.Client(false, 0), "line", req)
	var e *provider.Error
	if !errors.As(err, &e) || !errors.Is(err, egress.ErrForbiddenAddress) {
		t.Fatalf("want a refusal, got %v", err)
	}
	if !e.Permanent || e.Code != provider.CodeForbidden || e.Text != provider.TextForbidden {
		t.Errorf("refusal = %#v, want permanent %s %q", e, provider.CodeForbidden, provider.TextForbidden)
	}
	if e := provider.Unreachable("smtp", io.EOF); e.Permanent || e.Text != provider.TextUnreachable || !errors.Is(e, io.EOF) {
		t.Errorf("Unreachable(EOF) = %#v", e)
	}
}

func TestRequestWithMalformedURL(t *testing.T) {
	secret := "tok\x7fen"
	_, err := provider.Request(context.Background(), "telegram", "http://exa mple.com/bot"+secret, "application/json", nil)
	if err == nil || !provider.IsPermanent(err) {
		t.Fatalf("want a permanent error, got %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the URL: %v", err)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *provider.Error
		want string
	}{
		{"permanent with everything", &provider.Error{Provider: "whatsapp", Permanent: true, Code: "131047", Text: "Re-engagement message", HTTPStatus: 400},
			"whatsapp: permanent error 131047 (HTTP 400): Re-engagement message"},
		{"transient without status", &provider.Error{Provider: "smtp", Code: "transport", Text: "i/o timeout"},
			"smtp: transient error transport: i/o timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	e := (&provider.Error{Provider: "x", Text: "token abc123 rejected"}).Redact("abc123", "")
	if e.Text != "token [redacted] rejected" {
		t.Errorf("Text = %q", e.Text)
	}
}

func TestID(t *testing.T) {
	tests := []struct {
		name string
		json string
		want provider.ID
	}{
		{"string", `{"id":"wamid.X"}`, "wamid.X"},
		{"number beyond 2^53 keeps every digit", `{"id":5741311803571721087}`, "5741311803571721087"},
		{"small number", `{"id":42}`, "42"},
		{"null", `{"id":null}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v struct{ ID provider.ID }
			if err := json.Unmarshal([]byte(tc.json), &v); err != nil {
				t.Fatal(err)
			}
			if v.ID != tc.want {
				t.Errorf("ID = %q, want %q", v.ID, tc.want)
			}
		})
	}
	var v struct{ ID provider.ID }
	if err := json.Unmarshal([]byte(`{"id":true}`), &v); err == nil {
		t.Error("a boolean id must not decode")
	}
}

func TestSentinelKinds(t *testing.T) {
	if e, ok := errkind.As(provider.ErrSignature); !ok || e.Kind != errkind.KindUnauthenticated {
		t.Errorf("ErrSignature must be unauthenticated, got %v", provider.ErrSignature)
	}
	if e, ok := errkind.As(provider.ErrMalformed); !ok || e.Kind != errkind.KindBadRequest {
		t.Errorf("ErrMalformed must be a bad request, got %v", provider.ErrMalformed)
	}
}

// TestTransportErrorsReadTheSame: a tenant chooses a custom channel's URL or an api_base, so
// what the connection met (a closed port, a refusal, a service that is not HTTP and its banner)
// must not reach the message's error text; it is one fixed text, the cause for the log only.
func TestTransportErrorsReadTheSame(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/"
	closed.Close()

	banner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer banner.Close()
	go func() {
		for {
			c, err := banner.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("220 internal-mail.corp ESMTP Postfix\r\n"))
			c.Close()
		}
	}()

	for _, u := range []string{closedURL, "http://" + banner.Addr().String() + "/"} {
		req, err := provider.Request(context.Background(), "webhook", u, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = provider.Do(egress.Client(true, 5*time.Second), "webhook", req)
		var e *provider.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: want a provider error, got %v", u, err)
		}
		if e.Permanent || e.Code != "transport" || e.Text != provider.TextUnreachable || errors.Unwrap(e) == nil {
			t.Errorf("%s: error %#v (cause %v), want transient transport %q with its cause kept", u, e, errors.Unwrap(e), provider.TextUnreachable)
		}
	}
}
