// Package meta provides what the WhatsApp Cloud API and the Messenger/Instagram Send API share
// as Graph API products: the default base URL, the X-Hub-Signature-256 check, the hub.challenge
// verification handshake, and the Graph error body.
//
// References followed:
//   - Graph API changelog (versions and their expiry):
//     https://developers.facebook.com/docs/graph-api/changelog/versions/
//   - WhatsApp "Create a webhook endpoint" (GET verification, X-Hub-Signature-256):
//     https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint
//   - Messenger Platform error codes (Graph error body):
//     https://developers.facebook.com/docs/messenger-platform/error-codes
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

// DefaultAPIBase is the Graph API base both adapters call. v25.0 (released 18 February 2026,
// available until 29 July 2028) is the version Meta's Send API reference uses in its examples;
// v26.0 is newer but nothing here needs it.
const DefaultAPIBase = "https://graph.facebook.com/v25.0"

// SignatureHeader carries "sha256=" + hex HMAC-SHA256(app secret, raw body).
const SignatureHeader = "X-Hub-Signature-256"

// VerifySignature checks X-Hub-Signature-256 against the raw body, in constant time. An empty
// app secret never verifies: anyone can compute an HMAC with an empty key.
func VerifySignature(h http.Header, body []byte, appSecret string) error {
	if appSecret == "" {
		return fmt.Errorf("%w: no app secret is configured", provider.ErrSignature)
	}
	got := h.Get(SignatureHeader)
	if got == "" {
		return fmt.Errorf("%w: missing %s", provider.ErrSignature, SignatureHeader)
	}
	hexSig, ok := strings.CutPrefix(got, "sha256=")
	if !ok {
		return fmt.Errorf("%w: %s is not sha256=<hex>", provider.ErrSignature, SignatureHeader)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", provider.ErrSignature, SignatureHeader)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("%w: %s does not match the body", provider.ErrSignature, SignatureHeader)
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value Meta would send for body; tests and tools use it.
func Sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Handshake answers Meta's GET verification request: when hub.mode is "subscribe" and
// hub.verify_token equals verifyToken (constant time), it returns hub.challenge, which the
// route echoes as the plain-text body of a 200. Anything else is ErrSignature (answer 403 or 401).
func Handshake(query url.Values, verifyToken string) (string, error) {
	if verifyToken == "" {
		return "", fmt.Errorf("%w: no verify token is configured", provider.ErrSignature)
	}
	if query.Get("hub.mode") != "subscribe" {
		return "", fmt.Errorf("%w: hub.mode is not subscribe", provider.ErrSignature)
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", fmt.Errorf("%w: hub.verify_token does not match", provider.ErrSignature)
	}
	challenge := query.Get("hub.challenge")
	if challenge == "" {
		return "", fmt.Errorf("%w: hub.challenge is empty", provider.ErrSignature)
	}
	return challenge, nil
}

// GraphError is the body of a failed Graph API call:
// {"error":{"message","type","code","error_subcode","error_data":{"details"},"fbtrace_id"}}.
type GraphError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	FBTraceID string `json:"fbtrace_id"`
}

// ParseError reads a Graph error body; ok is false when the body is not one.
func ParseError(body []byte) (GraphError, bool) {
	var v struct {
		Error *GraphError `json:"error"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Error == nil {
		return GraphError{}, false
	}
	return *v.Error, true
}

// ErrorFor returns the error for a non-2xx Graph answer, classified by HTTP status first;
// permanent and transient list the Graph codes that override it (Graph answers most errors,
// rate limits included, with HTTP 400).
func ErrorFor(name string, resp *provider.Response, permanent, transient func(code, subcode int) bool) *provider.Error {
	ge, ok := ParseError(resp.Body)
	if !ok {
		return provider.FromResponse(name, resp, "", "")
	}
	text := ge.Message
	if ge.ErrorData.Details != "" {
		text += ": " + ge.ErrorData.Details
	}
	e := provider.FromResponse(name, resp, strconv.Itoa(ge.Code), text)
	switch {
	case permanent(ge.Code, ge.Subcode):
		e.Permanent = true
	case transient(ge.Code, ge.Subcode):
		e.Permanent = false
	}
	return e
}
