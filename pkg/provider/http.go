package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponse bounds how much of a provider's answer is read; answers to a send are small.
const maxResponse = 1 << 20

// Response is a provider's answer, read in full.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// OK reports a 2xx status.
func (r *Response) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Request builds a POST with a context. A malformed URL (a bad api_base) is a permanent error
// whose text never repeats the URL, since the URL may hold a credential.
func Request(ctx context.Context, provider, rawURL, contentType string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Provider: provider, Permanent: true, Code: "invalid_api_base",
			Text: "the provider URL is malformed"}
	}
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// JSONRequest marshals v and builds a JSON POST (see Request).
func JSONRequest(ctx context.Context, provider, rawURL string, v any) (*http.Request, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, Invalid(provider, fmt.Sprintf("encode request: %v", err))
	}
	return Request(ctx, provider, rawURL, "application/json", body)
}

// Do sends req and reads the answer. A request that gets no answer is a transient *Error (see
// FromTransport); any answer, whatever its status, is returned for the caller to classify.
func Do(client *http.Client, provider string, req *http.Request) (*Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, FromTransport(provider, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, FromTransport(provider, err)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Unreadable is the error for a 2xx answer whose body cannot be understood. It is permanent:
// the provider probably accepted the message, and a retry could deliver it twice.
func Unreadable(provider string, resp *Response) *Error {
	return &Error{Provider: provider, Permanent: true, Code: "unreadable_response", HTTPStatus: resp.StatusCode,
		Text: "the provider accepted the request but its answer cannot be read; the message may have been delivered"}
}

// ID is a provider identifier that arrives as a JSON string or number. Numbers keep every digit
// (Viber's message tokens exceed 2^53, which float64 would round).
type ID string

// UnmarshalJSON accepts a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "null":
		*id = ""
	case strings.HasPrefix(s, `"`):
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*id = ID(v)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id: %w", err)
		}
		*id = ID(n.String())
	}
	return nil
}
