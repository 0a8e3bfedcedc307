package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// README:BEGIN verifySwitchboardWebhook
// verifySwitchboardWebhook checks a Switchboard webhook delivery: secret is the "whsec_..."
// value shown when the webhook was created, body the raw request body. Drop deliveries whose
// webhook-id (the event id) you already processed: delivery is at least once.
func verifySwitchboardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("malformed secret")
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" {
		return errors.New("missing webhook-id or webhook-timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp too far from now (replayed?)")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if v, b64, ok := strings.Cut(sig, ","); ok && v == "v1" {
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return errors.New("no valid signature")
}

// README:END

// TestReadmeVerifySnippet keeps the README's snippet identical to the function the delivery
// tests verify real deliveries with.
func TestReadmeVerifySnippet(t *testing.T) {
	src, err := os.ReadFile("webhook_verify_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "// README:BEGIN verifySwitchboardWebhook\n")
	fn, _, _ := strings.Cut(rest, "\n// README:END")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.TrimSpace(fn)) {
		t.Fatalf("README.md must contain verifySwitchboardWebhook exactly as in webhook_verify_example_test.go")
	}
}
