package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

// SignatureHeader carries base64 HMAC-SHA1(auth token, URL + sorted parameters).
const SignatureHeader = "X-Twilio-Signature"

// Verify checks X-Twilio-Signature for a webhook whose full URL (scheme, host, path and query,
// exactly as configured at Twilio) is fullURL. A form body's parameters are part of the signed
// string; a JSON body is covered by the bodySHA256 query parameter instead. Because Twilio and
// proxies disagree on explicit default ports, the URL is also tried with ":443"/":80" added or
// removed, as Twilio's own libraries do.
func Verify(h http.Header, body []byte, authToken, fullURL string) error {
	if authToken == "" {
		return fmt.Errorf("%w: no auth token is configured", provider.ErrSignature)
	}
	got := h.Get(SignatureHeader)
	if got == "" {
		return fmt.Errorf("%w: missing %s", provider.ErrSignature, SignatureHeader)
	}
	sig, err := base64.StdEncoding.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: %s is not base64", provider.ErrSignature, SignatureHeader)
	}
	u, err := url.Parse(fullURL)
	if err != nil {
		return fmt.Errorf("%w: the webhook URL cannot be parsed", provider.ErrSignature)
	}
	var params url.Values
	if bodyHash := u.Query().Get("bodySHA256"); bodyHash != "" {
		sum := sha256.Sum256(body)
		if !hmac.Equal([]byte(strings.ToLower(bodyHash)), []byte(hex.EncodeToString(sum[:]))) {
			return fmt.Errorf("%w: bodySHA256 does not match the body", provider.ErrSignature)
		}
	} else if params, err = url.ParseQuery(string(body)); err != nil {
		return fmt.Errorf("%w: the body is not a form", provider.ErrSignature)
	}
	for _, candidate := range urlVariants(u) {
		if hmac.Equal(sig, sign(authToken, candidate, params)) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s does not match", provider.ErrSignature, SignatureHeader)
}

// Sign returns the X-Twilio-Signature Twilio would send for a form POST to fullURL.
func Sign(authToken, fullURL string, params url.Values) string {
	return base64.StdEncoding.EncodeToString(sign(authToken, fullURL, params))
}

func sign(authToken, fullURL string, params url.Values) []byte {
	var b strings.Builder
	b.WriteString(fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		values := slices.Clone(params[k])
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return mac.Sum(nil)
}

// urlVariants returns the URL as given, then with its default port removed or added.
func urlVariants(u *url.URL) []string {
	variants := []string{u.String()}
	defaultPort := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if defaultPort == "" {
		return variants
	}
	v := *u
	if u.Port() == defaultPort {
		v.Host = u.Hostname()
	} else if u.Port() == "" {
		v.Host = u.Host + ":" + defaultPort
	} else {
		return variants
	}
	return append(variants, v.String())
}

// statuses maps Twilio's MessageStatus to ours. queued, accepted, scheduled, sending, receiving
// and received are not delivery reports.
var statuses = map[string]string{
	"sent":        provider.StatusSent,
	"delivered":   provider.StatusDelivered,
	"read":        provider.StatusRead,
	"undelivered": provider.StatusFailed,
	"failed":      provider.StatusFailed,
	"canceled":    provider.StatusFailed,
}

// Parse reads a form-encoded webhook: a status callback (MessageStatus) becomes a Receipt, an
// incoming message (Body, and NumMedia files MediaUrl0..9 with MediaContentType0..9) an Inbound. Twilio sends no time with either, so
// ReceivedAt and At are zero. The "whatsapp:" prefix is stripped from addresses.
func Parse(body []byte) (provider.Event, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return provider.Event{}, fmt.Errorf("twilio webhook: %w: %w", provider.ErrMalformed, err)
	}
	sid := f.Get("MessageSid")
	if sid == "" {
		sid = f.Get("SmsSid")
	}
	if sid == "" {
		return provider.Event{}, fmt.Errorf("twilio webhook: %w: no MessageSid", provider.ErrMalformed)
	}
	if st := f.Get("MessageStatus"); st != "" && st != "received" && st != "receiving" {
		status, ok := statuses[st]
		if !ok {
			return provider.Event{}, nil
		}
		return provider.Event{Receipts: []provider.Receipt{{
			ProviderMessageID: sid,
			Recipient:         strings.TrimPrefix(f.Get("To"), whatsappPrefix),
			Status:            status,
			ErrorCode:         f.Get("ErrorCode"),
			ErrorText:         f.Get("ErrorMessage"),
		}}}, nil
	}
	in := provider.Inbound{
		ExternalID:  sid,
		From:        strings.TrimPrefix(f.Get("From"), whatsappPrefix),
		ContactName: f.Get("ProfileName"), // WhatsApp only
		Text:        f.Get("Body"),
	}
	// NumMedia says how many of MediaUrl0..9 there are; each URL is Twilio's copy of the file,
	// behind the account's basic auth when the account requires it (Client.Media).
	n, _ := strconv.Atoi(f.Get("NumMedia"))
	for i := range min(n, provider.MaxAttachments) {
		u := f.Get("MediaUrl" + strconv.Itoa(i))
		if u == "" {
			continue
		}
		in.Attachments = append(in.Attachments, provider.Attachment{URL: u, MIMEType: f.Get("MediaContentType" + strconv.Itoa(i))})
	}
	return provider.Event{Inbound: []provider.Inbound{in}}, nil
}
