package provider

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/pkg/egress"
)

// maxRetryAfter bounds a provider's Retry-After, so an absurd value neither overflows a
// Duration nor parks a message for months; the dispatcher applies its own limits on top.
const maxRetryAfter = 24 * time.Hour

// Error classifies a failed send. Permanent errors (invalid recipient, window closed at the
// provider, template rejected, bad credentials) must not be retried; the others (timeouts, rate
// limits, 5xx) should be, no sooner than RetryAfter when it is set.
//
// Code and Text are the provider's own, so an operator can look them up. Neither ever contains
// a credential or a request URL (Telegram's token is in its URL path).
type Error struct {
	Provider   string
	Permanent  bool
	Code       string // the provider's error code, e.g. "131047", "21211", "403"
	Text       string // the provider's description
	HTTPStatus int    // 0 when no HTTP answer was received
	RetryAfter time.Duration

	cause error // transport or context error, already stripped of the request URL
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	if e.Permanent {
		b.WriteString(": permanent error")
	} else {
		b.WriteString(": transient error")
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Text != "" {
		b.WriteString(": " + e.Text)
	}
	return b.String()
}

// Unwrap exposes the transport cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.cause }

// Redact replaces every non-empty secret in Code and Text, in case a provider echoes one back.
func (e *Error) Redact(secrets ...string) *Error {
	e.Code = Redact(e.Code, secrets...)
	e.Text = Redact(e.Text, secrets...)
	return e
}

// IsPermanent reports whether err is an *Error that must not be retried. Any other error is
// treated as transient.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// Invalid returns a permanent error for a message the provider cannot take as it is (a template
// on a provider without templates, a missing recipient); no request is made.
func Invalid(provider, text string) *Error {
	return &Error{Provider: provider, Permanent: true, Code: "invalid_message", Text: text}
}

// Transient reports whether an HTTP status is worth retrying: request timeout, too early, too
// many requests, and every 5xx.
func Transient(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || status >= 500
}

// FromResponse returns the error for a non-2xx answer, classified by its status (see
// Transient), with RetryAfter from its Retry-After header. code and text are the provider's,
// parsed from the body by the caller; an empty code becomes the HTTP status.
func FromResponse(provider string, resp *Response, code, text string) *Error {
	if code == "" {
		code = strconv.Itoa(resp.StatusCode)
	}
	if text == "" {
		text = http.StatusText(resp.StatusCode)
	}
	return &Error{
		Provider:   provider,
		Permanent:  !Transient(resp.StatusCode),
		Code:       code,
		Text:       text,
		HTTPStatus: resp.StatusCode,
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// FromTransport returns the transient error for a request that got no answer (timeout, refused
// connection, cancelled context). The request URL is dropped: *url.Error prints it, and a URL
// can hold a credential. A destination egress refused is Forbidden.
func FromTransport(provider string, err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, egress.ErrForbiddenAddress) {
		return Forbidden(provider, err)
	}
	return Unreachable(provider, err)
}

// Forbidden texts and codes are fixed, whatever the cause, so a refusal says nothing about
// the destination beyond that it is not allowed.
const (
	CodeForbidden   = "forbidden_destination"
	TextForbidden   = "destination address is not allowed"
	TextUnreachable = "the connection to the server failed"
)

// Forbidden is the permanent error for a destination the egress guard refused (an internal
// address a tenant aimed a channel at). Its text is fixed; cause, kept for errors.Is and the
// server's log, names the address.
func Forbidden(provider string, cause error) *Error {
	return &Error{Provider: provider, Permanent: true, Code: CodeForbidden, Text: TextForbidden, cause: cause}
}

// Unreachable is the transient error for a connection that failed below the provider's
// protocol: refused, reset, closed early or timed out. Its text is fixed because the cause
// tells which ports answer on a host, and for SMTP the tenant chooses the host; the cause stays
// reachable through Unwrap for errors.Is and the server's log. A refused destination is
// Forbidden.
func Unreachable(provider string, cause error) *Error {
	if errors.Is(cause, egress.ErrForbiddenAddress) {
		return Forbidden(provider, cause)
	}
	return &Error{Provider: provider, Code: "transport", Text: TextUnreachable, cause: cause}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date, relative to now.
// An empty, malformed or past value is 0; values beyond a day are clamped to a day.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return clampRetryAfter(secs)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// RetryAfterSeconds converts a provider's retry_after body field (Telegram) to a Duration.
func RetryAfterSeconds(secs int64) time.Duration { return clampRetryAfter(secs) }

func clampRetryAfter(secs int64) time.Duration {
	if secs <= 0 {
		return 0
	}
	if secs >= int64(maxRetryAfter/time.Second) {
		return maxRetryAfter
	}
	return time.Duration(secs) * time.Second
}

// Redact replaces every non-empty secret in s with "[redacted]".
func Redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
