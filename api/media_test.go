package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/media"
)

type mediaBody struct {
	ID        string    `json:"id"`
	MimeType  string    `json:"mime_type"`
	Size      int64     `json:"size"`
	Filename  *string   `json:"filename"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
}

// A 1×1 PNG's head, padded: enough for the sniffer.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"), bytes.Repeat([]byte{7}, 1000)...)

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func upload(t *testing.T, e *apitest.Env, token, name string, data []byte) mediaBody {
	t.Helper()
	var m mediaBody
	r := e.Upload(t, token, name, data).Expect(t, http.StatusCreated)
	r.JSON(t, &m)
	if loc := r.Header.Get("Location"); loc != "/v1/media/"+m.ID {
		t.Fatalf("Location %q for %s", loc, m.ID)
	}
	return m
}

func TestMediaUploadAndDownload(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Media")
	agent := e.NewUser(t, w, "agent")

	// The name and the part's Content-Type say text; the bytes are a PNG.
	m := upload(t, e, agent.Token, "Grüße \"1\".txt", pngBytes)
	if m.MimeType != "image/png" || m.Size != int64(len(pngBytes)) || m.SHA256 != hexSHA(pngBytes) ||
		m.Filename == nil || *m.Filename != "Grüße \"1\".txt" || !m.CreatedAt.Equal(e.Clock.Now()) {
		t.Fatalf("uploaded %+v", m)
	}

	r := e.Get(t, "/v1/media/"+m.ID, agent.Token).Expect(t, http.StatusOK)
	if !bytes.Equal(r.Body, pngBytes) {
		t.Fatalf("downloaded %d bytes, not the %d uploaded", len(r.Body), len(pngBytes))
	}
	for k, want := range map[string]string{
		"Content-Type":           "image/png",
		"Content-Length":         strconv.Itoa(len(pngBytes)),
		"ETag":                   `"` + m.SHA256 + `"`,
		"Content-Disposition":    `inline; filename="Gr__e _1_.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%221%22.txt`,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "private",
		"Accept-Ranges":          "bytes",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}

	// A range, a condition that holds, and a range past the end.
	get := func(h map[string]string) *apitest.Response {
		return e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/media/" + m.ID, Token: agent.Token, Header: h})
	}
	r = get(map[string]string{"Range": "bytes=1-3"}).Expect(t, http.StatusPartialContent)
	if string(r.Body) != "PNG" || r.Header.Get("Content-Range") != "bytes 1-3/"+strconv.Itoa(len(pngBytes)) {
		t.Fatalf("range: %q, Content-Range %q", r.Body, r.Header.Get("Content-Range"))
	}
	r = get(map[string]string{"Range": "bytes=-4"}).Expect(t, http.StatusPartialContent)
	if !bytes.Equal(r.Body, pngBytes[len(pngBytes)-4:]) {
		t.Fatalf("suffix range: %q", r.Body)
	}
	get(map[string]string{"If-None-Match": `"` + m.SHA256 + `"`}).Expect(t, http.StatusNotModified)
	r = get(map[string]string{"Range": "bytes=1-3", "If-Range": `"other"`}).Expect(t, http.StatusOK)
	if len(r.Body) != len(pngBytes) {
		t.Fatalf("If-Range that does not match: %d bytes, want the whole file", len(r.Body))
	}
	r = get(map[string]string{"Range": "bytes=5000-6000"}).ExpectProblem(t, http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable")
	if r.Header.Get("Content-Range") != "bytes */"+strconv.Itoa(len(pngBytes)) {
		t.Fatalf("416 Content-Range %q", r.Header.Get("Content-Range"))
	}

	// The same bytes again: a new id, the same blob. A document is saved, not shown.
	again := upload(t, e, w.APIKey, "copy.png", pngBytes)
	if again.ID == m.ID || again.SHA256 != m.SHA256 {
		t.Fatalf("second upload %+v", again)
	}
	pdf := upload(t, e, agent.Token, "", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"))
	if pdf.MimeType != "application/pdf" || pdf.Filename != nil {
		t.Fatalf("pdf %+v", pdf)
	}
	r = e.Get(t, "/v1/media/"+pdf.ID, agent.Token).Expect(t, http.StatusOK)
	if cd := r.Header.Get("Content-Disposition"); cd != "attachment" {
		t.Fatalf("pdf Content-Disposition %q", cd)
	}

	e.Get(t, "/v1/media/"+uuid.NewString(), agent.Token).ExpectProblem(t, http.StatusNotFound, "media_not_found")
	e.Get(t, "/v1/media/not-an-id", agent.Token).ExpectProblem(t, http.StatusNotFound, "media_not_found")
}

// The uploads that the server refuses, each with its status and code. The cap is 64 KiB here,
// the global body limit (64K in tests) does not apply to uploads.
func TestMediaUploadRefusals(t *testing.T) {
	const limit = 256 << 10
	e := apitest.New(t, func(c *config.Config) { c.MediaMaxBytes = limit })
	w := e.NewWorkspace(t, "Media")
	big := make([]byte, limit)
	_, _ = rand.Read(big)
	m := upload(t, e, w.APIKey, "exactly-the-cap.bin", big) // over BODY_LIMIT, at the cap
	if m.Size != limit {
		t.Fatalf("size %d", m.Size)
	}

	over := append(big, 'x')
	overBody, overType := apitest.Multipart("file", "big.bin", over)
	cut, cutType := apitest.Multipart("file", "cut.bin", pngBytes)
	elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 200)...)
	elfBody, elfType := apitest.Multipart("file", "innocent.jpg", elf)
	other, otherType := apitest.Multipart("attachment", "x.png", pngBytes)
	empty, emptyType := apitest.Multipart("file", "empty.txt", nil)
	cases := []struct {
		name   string
		body   any
		ctype  string
		status int
		code   string
	}{
		{"over the cap, said by Content-Length", overBody, overType, http.StatusRequestEntityTooLarge, "media_too_large"},
		{"over the cap, streamed", bytes.NewReader(overBody), overType, http.StatusRequestEntityTooLarge, "media_too_large"},
		{"cut in the file part", cut[:len(cut)/2], cutType, http.StatusBadRequest, "malformed_multipart"},
		{"cut before the closing boundary", cut[:len(cut)-len("--\r\n")-70], cutType, http.StatusBadRequest, "malformed_multipart"},
		{"not multipart", `{"file":"x"}`, "application/json", http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"multipart without a boundary", "x", "multipart/form-data", http.StatusBadRequest, "malformed_multipart"},
		{"an executable named .jpg", elfBody, elfType, http.StatusUnprocessableEntity, "media_type_refused"},
		{"no file part", other, otherType, http.StatusUnprocessableEntity, "validation_failed"},
		{"an empty file", empty, emptyType, http.StatusUnprocessableEntity, "validation_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/media", Token: w.APIKey, Body: tc.body,
				Header: map[string]string{"Content-Type": tc.ctype}})
			r.ExpectProblem(t, tc.status, tc.code)
			switch tc.code {
			case "media_too_large":
				if p := r.Map(t); !strings.Contains(p["detail"].(string), "262144 bytes (256 KiB)") {
					t.Errorf("detail %q does not name the cap", p["detail"])
				}
			case "media_type_refused":
				if p := r.Map(t); !strings.Contains(p["detail"].(string), "application/x-executable") {
					t.Errorf("detail %q does not name the type", p["detail"])
				}
			case "validation_failed":
				if p := r.Map(t); p["errors"].([]any)[0].(map[string]any)["field"] != "file" {
					t.Errorf("errors %v do not name file", p["errors"])
				}
			}
		})
	}
	// Reading media is not enough to store it.
	reader := e.NewKey(t, w, "conversations:read")
	body, ct := apitest.Multipart("file", "x.png", pngBytes)
	e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/media", Token: reader, Body: body,
		Header: map[string]string{"Content-Type": ct}}).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Get(t, "/v1/media/"+m.ID, reader).Expect(t, http.StatusOK)
}

func TestMediaSignedURL(t *testing.T) {
	e := apitest.New(t, apitest.WithCORS("https://app.example.com"))
	w := e.NewWorkspace(t, "Media")
	m := upload(t, e, w.APIKey, "photo.png", pngBytes)

	var su struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	e.Get(t, "/v1/media/"+m.ID+"/url", w.APIKey).Expect(t, http.StatusOK).JSON(t, &su)
	if want := e.Clock.Now().Add(15 * time.Minute); !su.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at %s, want %s", su.ExpiresAt, want)
	}
	if !strings.HasPrefix(su.URL, e.URL+"/v1/media/"+m.ID+"/content?") {
		t.Fatalf("url %s is not on this server (%s)", su.URL, e.URL)
	}
	path := strings.TrimPrefix(su.URL, e.URL)
	// No bearer token: the URL is the credential. Any page may embed it.
	r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: path, Header: map[string]string{"Origin": "https://elsewhere.example"}}).Expect(t, http.StatusOK)
	if !bytes.Equal(r.Body, pngBytes) || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("ETag") != `"`+m.SHA256+`"` {
		t.Fatalf("signed download: %d bytes, headers %v", len(r.Body), r.Header)
	}
	if r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Fatalf("signed download CORS headers: %v", r.Header)
	}
	// A page of an allowed origin reads the bearer route's answer and the file's name.
	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/media/" + m.ID, Token: w.APIKey,
		Header: map[string]string{"Origin": "https://app.example.com"}}).Expect(t, http.StatusOK)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "Content-Disposition") {
		t.Fatalf("CORS headers of a download: %v", r.Header)
	}
	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: path, Header: map[string]string{"Range": "bytes=0-3"}}).Expect(t, http.StatusPartialContent)
	if !bytes.Equal(r.Body, pngBytes[:4]) {
		t.Fatalf("signed range %q", r.Body)
	}

	u, _ := url.Parse(su.URL)
	q := u.Query()
	tamper := func(k, v string) string {
		q2 := url.Values{}
		for key, vs := range q {
			q2[key] = vs
		}
		q2.Set(k, v)
		return u.Path + "?" + q2.Encode()
	}
	other := e.NewWorkspace(t, "Other")
	otherMedia := upload(t, e, other.APIKey, "theirs.png", pngBytes)
	exp, _ := strconv.ParseInt(q.Get("expires"), 10, 64)
	for name, p := range map[string]string{
		"another signature":             tamper("signature", strings.Repeat("A", 43)),
		"a later expiry":                tamper("expires", strconv.FormatInt(exp+3600, 10)),
		"another workspace":             tamper("workspace", other.ID),
		"another media":                 strings.Replace(path, m.ID, otherMedia.ID, 1),
		"no signature":                  u.Path + "?workspace=" + q.Get("workspace") + "&expires=" + q.Get("expires"),
		"a malformed id":                strings.Replace(path, m.ID, "not-an-id", 1),
		"an unknown id, valid-looking":  strings.Replace(path, m.ID, uuid.NewString(), 1),
		"a signature that is not b64":   tamper("signature", "%%%"),
		"an expiry that is not integer": tamper("expires", "soon"),
	} {
		t.Run(name, func(t *testing.T) {
			e.Do(t, apitest.Request{Method: http.MethodGet, Path: p}).ExpectProblem(t, http.StatusForbidden, "url_signature_invalid")
		})
	}
	// Expired: at expires_at and after.
	e.Clock.Advance(15 * time.Minute)
	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: path}).ExpectProblem(t, http.StatusForbidden, "url_signature_invalid")
	if !strings.Contains(r.Map(t)["detail"].(string), "expired") {
		t.Fatalf("expired detail: %s", r.Body)
	}
}

// With PUBLIC_BASE_URL the signed URL is on it, whatever host the request came to.
func TestMediaSignedURLPublicBase(t *testing.T) {
	e := apitest.New(t, func(c *config.Config) { c.PublicBaseURL = "https://api.example.com" })
	w := e.NewWorkspace(t, "Media")
	m := upload(t, e, w.APIKey, "photo.png", pngBytes)
	var su struct {
		URL string `json:"url"`
	}
	e.Get(t, "/v1/media/"+m.ID+"/url", w.APIKey).Expect(t, http.StatusOK).JSON(t, &su)
	if !strings.HasPrefix(su.URL, "https://api.example.com/v1/media/"+m.ID+"/content?") {
		t.Fatalf("url %s", su.URL)
	}
}

// A customer's media goes with the contact; the sweep job deletes its file, and leaves a
// file an upload of the same bytes still refers to.
func TestMediaOfADeletedContact(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Media")
	ctx := context.Background()
	ws := uuid.MustParse(w.ID)
	contactID := uuid.MustParse(e.NewContact(t, w.APIKey, map[string]any{"first_name": "Ana"}))
	// As the inbound media fetch job will store what a customer sends.
	own, err := e.Services.Media.Put(ctx, ws, strings.NewReader("a photo only Ana sent"), media.New{ContactID: &contactID})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := e.Services.Media.Put(ctx, ws, bytes.NewReader(pngBytes), media.New{ContactID: &contactID})
	if err != nil {
		t.Fatal(err)
	}
	kept := upload(t, e, w.APIKey, "same.png", pngBytes)
	e.Get(t, "/v1/media/"+own.ID.String(), w.APIKey).Expect(t, http.StatusOK)

	e.Delete(t, "/v1/contacts/"+contactID.String(), w.APIKey).Expect(t, http.StatusNoContent)
	for _, id := range []uuid.UUID{own.ID, shared.ID} {
		e.Get(t, "/v1/media/"+id.String(), w.APIKey).ExpectProblem(t, http.StatusNotFound, "media_not_found")
		e.Get(t, "/v1/media/"+id.String()+"/url", w.APIKey).ExpectProblem(t, http.StatusNotFound, "media_not_found")
	}
	if err := e.Jobs.Run(ctx, job.SweepMedia{}); err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimPrefix(e.Config.MediaStore, "file://")
	if _, err := readFile(dir, own.Key()); err == nil {
		t.Fatalf("the deleted contact's file %s is still stored", own.Key())
	}
	if b, err := readFile(dir, shared.Key()); err != nil || !bytes.Equal(b, pngBytes) {
		t.Fatalf("the file an upload shares is gone: %v", err)
	}
	r := e.Get(t, "/v1/media/"+kept.ID, w.APIKey).Expect(t, http.StatusOK)
	if !bytes.Equal(r.Body, pngBytes) {
		t.Fatal("the upload no longer reads its bytes")
	}
}

func readFile(dir, key string) ([]byte, error) {
	f, err := http.Dir(dir).Open("/" + key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
