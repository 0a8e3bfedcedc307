package providertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
)

// Media is a fake of the providers' media APIs, on 127.0.0.1, serving the files a test adds by
// id. Point a channel's api_base at the prefix of its provider:
//
//   - URL+"/wa": WhatsApp Cloud. GET /wa/{id} answers {url, mime_type, sha256, file_size} with
//     url at /wa/download/{id}; both want "Authorization: Bearer <Token>".
//   - URL+"/tg": Telegram. POST /tg/bot<token>/getFile {"file_id"} answers the file_path, and
//     GET /tg/file/bot<token>/<file_path> the file; other tokens are 401.
//   - URL+"/line": LINE. GET /line/v2/bot/message/{id}/content, with the bearer token.
//   - File(id): a plain link (Messenger, Viber, LINE's external content, Twilio's MediaUrl),
//     served to anyone; with BasicAuth set, only to those credentials (Twilio).
//
// An unknown id is 404 in the provider's own error shape. Fail makes an id's first requests
// answer other statuses; Stream makes an id an endless body without Content-Length, counting
// what it wrote. It stops with the test.
type Media struct {
	URL string
	// Token is the bearer token (WhatsApp, LINE) or bot token (Telegram) the fake wants.
	Token string
	// BasicAuth, when set, is the "user:password" plain files want.
	BasicAuth string

	mu       sync.Mutex
	files    map[string]mediaFile
	fail     map[string][]int
	requests []Request
	streamed map[string]int64
}

type mediaFile struct {
	data        []byte
	contentType string
	stream      bool
}

// NewMedia starts the fake; token is the credential its API routes want.
func NewMedia(t testing.TB, token string) *Media {
	t.Helper()
	m := &Media{Token: token, files: map[string]mediaFile{}, fail: map[string][]int{}, streamed: map[string]int64{}}
	srv := httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// Add serves data as the file id, declared as contentType.
func (m *Media) Add(id string, data []byte, contentType string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[id] = mediaFile{data: data, contentType: contentType}
}

// Stream serves id as an endless body, chunked, without Content-Length or a declared size.
func (m *Media) Stream(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[id] = mediaFile{contentType: "application/pdf", stream: true}
}

// Fail answers the next requests for id with these statuses, one each, before serving it.
func (m *Media) Fail(id string, statuses ...int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail[id] = append(m.fail[id], statuses...)
}

// File is the plain link of id.
func (m *Media) File(id string) string { return m.URL + "/files/" + id }

// Requests returns what the fake received so far.
func (m *Media) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Request(nil), m.requests...)
}

// Streamed is how many bytes the endless body of id wrote before the client hung up.
func (m *Media) Streamed(id string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.streamed[id]
}

func (m *Media) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	m.mu.Lock()
	m.requests = append(m.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body})
	m.mu.Unlock()
	bearer := r.Header.Get("Authorization") == "Bearer "+m.Token
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/wa/download/"):
		m.file(w, strings.TrimPrefix(path, "/wa/download/"), bearer, false, `{"error":{"message":"Not found","code":100}}`)
	case strings.HasPrefix(path, "/wa/"):
		id := strings.TrimPrefix(path, "/wa/")
		if !bearer {
			http.Error(w, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`, http.StatusUnauthorized)
			return
		}
		f, ok := m.take(w, id, `{"error":{"message":"Unsupported get request. Object with ID '`+id+`' does not exist","type":"GraphMethodException","code":100}}`)
		if !ok {
			return
		}
		size := ""
		if !f.stream {
			size = strconv.Itoa(len(f.data))
		}
		writeJSON(w, map[string]any{"messaging_product": "whatsapp", "id": id, "url": m.URL + "/wa/download/" + id,
			"mime_type": f.contentType, "sha256": "unused", "file_size": size})
	case strings.HasPrefix(path, "/tg/bot"+m.Token+"/getFile"):
		var in struct {
			FileID string `json:"file_id"`
		}
		_ = json.Unmarshal(body, &in)
		f, ok := m.take(w, in.FileID, `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`)
		if !ok {
			return
		}
		result := map[string]any{"file_id": in.FileID, "file_unique_id": "u", "file_path": "documents/" + in.FileID + ".bin"}
		if !f.stream {
			result["file_size"] = len(f.data)
		}
		writeJSON(w, map[string]any{"ok": true, "result": result})
	case strings.HasPrefix(path, "/tg/file/bot"+m.Token+"/documents/"):
		m.file(w, strings.TrimSuffix(strings.TrimPrefix(path, "/tg/file/bot"+m.Token+"/documents/"), ".bin"), true, false,
			`{"ok":false,"error_code":404,"description":"Not Found"}`)
	case strings.HasPrefix(path, "/tg/"):
		http.Error(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, http.StatusUnauthorized)
	case strings.HasPrefix(path, "/line/v2/bot/message/") && strings.HasSuffix(path, "/content"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/line/v2/bot/message/"), "/content")
		m.file(w, id, bearer, true, `{"message":"Not found"}`)
	case strings.HasPrefix(path, "/files/"):
		user, pass, _ := r.BasicAuth()
		m.file(w, strings.TrimPrefix(path, "/files/"), m.BasicAuth == "" || user+":"+pass == m.BasicAuth, true, "Not Found")
	default:
		http.NotFound(w, r)
	}
}

// take answers a pending failure or a 404 for id, or reports the file to serve.
func (m *Media) take(w http.ResponseWriter, id, notFound string) (mediaFile, bool) {
	m.mu.Lock()
	f, ok := m.files[id]
	var status int
	if fails := m.fail[id]; len(fails) > 0 {
		status, m.fail[id] = fails[0], fails[1:]
	}
	m.mu.Unlock()
	switch {
	case status != 0:
		http.Error(w, fmt.Sprintf(`{"message":"fake failure %d"}`, status), status)
		return mediaFile{}, false
	case !ok:
		http.Error(w, notFound, http.StatusNotFound)
		return mediaFile{}, false
	}
	return f, true
}

// file serves id's bytes; first says this request is the id's first step (where failures
// are answered) rather than the download after a metadata step that already took them.
func (m *Media) file(w http.ResponseWriter, id string, authorised, first bool, notFound string) {
	if !authorised {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	var f mediaFile
	if first {
		var ok bool
		if f, ok = m.take(w, id, notFound); !ok {
			return
		}
	} else {
		m.mu.Lock()
		g, ok := m.files[id]
		m.mu.Unlock()
		if !ok {
			http.Error(w, notFound, http.StatusNotFound)
			return
		}
		f = g
	}
	w.Header().Set("Content-Type", f.contentType)
	if !f.stream {
		w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
		_, _ = w.Write(f.data)
		return
	}
	// Endless, flushed chunk by chunk, until the client hangs up: a client that buffers the
	// whole answer never returns.
	chunk := []byte("%PDF-1.4\n" + strings.Repeat("x", 32<<10-9))
	flusher, _ := w.(http.Flusher)
	for {
		n, err := w.Write(chunk)
		m.mu.Lock()
		m.streamed[id] += int64(n)
		m.mu.Unlock()
		if err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		chunk = []byte(strings.Repeat("x", 32<<10))
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Downloaded reads and closes the body a successful download answered, failing the test at
// once when the download failed.
func Downloaded(t testing.TB, body io.ReadCloser, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("read the download: %v", err)
	}
	return data
}

// DownloadFailed checks a failed download: a *provider.Error, permanent or not, for the HTTP
// status, with none of the secrets in it.
func DownloadFailed(t testing.TB, err error, permanent bool, status int, secrets ...string) {
	t.Helper()
	var e *provider.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *provider.Error, got %v", err)
	}
	Equal(t, "Permanent", e.Permanent, permanent)
	Equal(t, "HTTPStatus", e.HTTPStatus, status)
	NoSecret(t, err, nil, secrets...)
}
