// Package providertest provides a fake provider API for the adapters' tests: an httptest server
// that records every request and replays canned answers (and reads multipart uploads), a fake
// SMTP server, stored attachments, and a check that no credential leaks into an error or a
// result; and FuzzParse, the invariants every webhook parser's fuzz target holds.
package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
)

// Request is what the fake provider received.
type Request struct {
	Method   string
	Path     string // the escaped path, exactly as sent
	RawQuery string
	Header   http.Header
	Body     []byte
	// ContentLength is the request's announced length; -1 when it had none (chunked).
	ContentLength int64
}

// JSON decodes the body into a generic map, failing the test when it is not a JSON object.
func (r Request) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("request body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Reply is a canned answer.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Server is a fake provider API. Each request gets the next reply; the last one repeats.
type Server struct {
	URL string

	mu       sync.Mutex
	requests []Request
	replies  []Reply
}

// NewServer starts a fake provider that answers with replies in order; it stops with the test.
func NewServer(t testing.TB, replies ...Reply) *Server {
	t.Helper()
	if len(replies) == 0 {
		replies = []Reply{{Status: http.StatusOK, Body: "{}"}}
	}
	s := &Server{replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength,
	})
	reply := s.replies[min(len(s.requests), len(s.replies))-1]
	s.mu.Unlock()
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reply.Body)
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Only returns the single request received, failing the test when there was not exactly one.
func (s *Server) Only(t testing.TB) Request {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("fake provider got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// NoSecret fails the test when a secret appears in err's message or in the printed result.
func NoSecret(t testing.TB, err error, result any, secrets ...string) {
	t.Helper()
	var texts []string
	if err != nil {
		texts = append(texts, err.Error())
		for u := err; u != nil; {
			texts = append(texts, u.Error())
			next, ok := u.(interface{ Unwrap() error })
			if !ok {
				break
			}
			u = next.Unwrap()
		}
	}
	texts = append(texts, fmt.Sprintf("%+v", result))
	for _, text := range texts {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("secret %q leaked into %q", secret, text)
			}
		}
	}
}

// Equal fails the test when got != want, naming the field.
func Equal[T comparable](t testing.TB, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", field, got, want)
	}
}

// DeepEqual fails the test unless got and want are deeply equal (reflect.DeepEqual): for
// values Equal cannot compare, such as an Inbound with its Attachments.
func DeepEqual[T any](t testing.TB, field string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", field, got, want)
	}
}

// JSONEqual fails the test unless got is the same JSON value as want, field by field (object
// key order and spacing do not matter; extra or missing fields do).
func JSONEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(g, "", "  ")
		wb, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("JSON body differs\ngot:  %s\nwant: %s", gb, wb)
	}
}

// FuzzParse fuzzes a provider's webhook Parse from the seed corpus in testdata/fuzz. The
// invariants: Parse never panics, and a failure wraps provider.ErrMalformed (the webhook
// route answers 400 for it, never 500).
func FuzzParse(f *testing.F, parse func(body []byte) (provider.Event, error)) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := parse(body); err != nil && !errors.Is(err, provider.ErrMalformed) {
			t.Fatalf("Parse failed without ErrMalformed: %v", err)
		}
	})
}

// Stored is an attachment of stored media with these bytes, as the dispatcher hands it: Open
// reads them, Size is their length, and URL its signed link (providers that fetch by URL).
func Stored(mimeType, filename string, data []byte, url string) provider.Attachment {
	return provider.Attachment{MIMEType: mimeType, Filename: filename, Size: int64(len(data)), URL: url,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// FormPart is one part of a multipart/form-data request the fake provider received.
type FormPart struct {
	Filename    string
	ContentType string
	Data        string
}

// Form decodes a multipart/form-data body by part name, failing the test when it is not one
// or when its Content-Length is not its length.
func (r Request) Form(t testing.TB) map[string]FormPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("request is not multipart/form-data: %q", r.Header.Get("Content-Type"))
	}
	if r.ContentLength != int64(len(r.Body)) {
		t.Errorf("Content-Length %d for a body of %d bytes", r.ContentLength, len(r.Body))
	}
	out := map[string]FormPart{}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read multipart body: %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("read part %s: %v", p.FormName(), err)
		}
		out[p.FormName()] = FormPart{Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: string(data)}
	}
}
