package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/resource"
)

type mediaHandler struct {
	media         *media.Service
	urls          *media.Signer
	publicBaseURL string
}

// uploadPath is POST /v1/media's route, which the global body limit skips (isUpload).
const uploadPath = "/media"

// isUpload reports whether the request is an upload, whose body its handler caps itself.
func isUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == "/v1"+uploadPath
}

// multipartOverhead is what an upload's body may hold besides the file: the boundaries, the
// parts' headers, and small form fields.
const multipartOverhead = 64 << 10

// errMalformedMultipart is a multipart body that cannot be read to the end of its file part:
// cut short, or not multipart inside.
var errMalformedMultipart = errkind.New(errkind.KindBadRequest, "malformed_multipart",
	"The multipart body is malformed or was cut short before the end of the file part.")

// upload godoc
// @Summary     Upload a media file
// @ID          uploadMedia
// @Description Stores a file to send as an attachment: a multipart/form-data body with the file in the part named `file` (its filename, without a path, is kept; other parts are ignored). The type is sniffed from the bytes, never taken from the client's Content-Type or the name. Programs and scripts (executables, shared libraries, shell or Python scripts, Java archives, WebAssembly…) answer 422 media_type_refused naming the sniffed type. A file over MEDIA_MAX_BYTES (25 MiB by default) answers 413 media_too_large naming the cap: at once when the Content-Length says so, otherwise as soon as the stream passes it, without reading the rest. A body cut short answers 400 malformed_multipart. The file is streamed to the store, never held in memory; a file uploaded twice is stored once per workspace (same sha256), each upload with its own id. Answers 201 with Location.
// @Tags        media
// @Accept      mpfd
// @Produce     json
// @Security    BearerAuth
// @Param       file formData file true "The file (at least one byte)"
// @Success     201 {object} resource.Media
// @Header      201 {string} Location "/v1/media/{id}"
// @Failure     400 {object} Problem "malformed_multipart"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     413 {object} Problem "media_too_large"
// @Failure     415 {object} Problem "unsupported_media_type"
// @Failure     422 {object} Problem "validation_failed, media_type_refused"
// @Router      /v1/media [post]
func (h *mediaHandler) upload(c echo.Context) error {
	req := c.Request()
	limit := h.media.MaxBytes()
	if req.ContentLength > limit+multipartOverhead {
		return media.TooLarge(limit)
	}
	// A body without Content-Length is cut where a file of the cap and its overhead would end.
	req.Body = http.MaxBytesReader(c.Response(), req.Body, limit+multipartOverhead)
	mr, err := req.MultipartReader()
	switch {
	case errors.Is(err, http.ErrNotMultipart):
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "The body must be multipart/form-data, with the file in a part named file.")
	case err != nil:
		return errMalformedMultipart.Detailf("The multipart body cannot be read: %s.", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return errkind.Invalid(errkind.Field{Field: "file", Message: "is required: the file, in a multipart part named file"})
		}
		if err != nil {
			return bodyError(err, limit)
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return bodyError(err, limit)
			}
			continue
		}
		file := &readErr{r: part}
		m, err := h.media.Put(req.Context(), principal(c).WorkspaceID, file, media.New{Filename: part.FileName()})
		if file.err != nil {
			// The body failed under Put: the client's fault, whatever Put made of it.
			return bodyError(file.err, limit)
		}
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderLocation, "/v1/media/"+m.ID.String())
		return c.JSON(http.StatusCreated, resource.ToMedia(m))
	}
}

// readErr remembers the error its reader failed with, so that a failed upload can tell the
// client's body (cut short, over the cap) from the store.
type readErr struct {
	r   io.Reader
	err error
}

func (b *readErr) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}

// bodyError is the client's error for a multipart body that could not be read: over the cap
// (413), or cut short or malformed (400; at the server's read deadline bodyDeadline answers
// 408 instead).
func bodyError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return media.TooLarge(limit)
	}
	return errMalformedMultipart
}

// download godoc
// @Summary     Download a media file
// @ID          getMedia
// @Description Streams the file's bytes with its sniffed Content-Type, Content-Length, ETag (its quoted sha256) and Last-Modified. Range requests (one or several ranges: 206), If-None-Match (304), If-Range, If-Match and If-Modified-Since work as for a static file. Images, audio and video are served inline, everything else as an attachment (Content-Disposition, with the filename in RFC 5987 form); X-Content-Type-Options: nosniff and a sandboxing Content-Security-Policy keep a browser from running what it downloads. Another workspace's media id answers 404.
// @Tags        media
// @Produce     */*
// @Security    BearerAuth
// @Param       id       path   string true  "Media id"
// @Param       Range    header string false "Byte ranges, e.g. bytes=0-1023"
// @Success     200 {file} binary
// @Success     206 {file} binary "The requested range(s)"
// @Success     304 "Not modified (If-None-Match)"
// @Header      200,206 {string} ETag "The quoted sha256 of the bytes"
// @Header      200,206 {string} Content-Disposition "inline or attachment, with the filename"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "media_not_found"
// @Failure     412 "If-Match does not match"
// @Failure     416 {object} Problem "range_not_satisfiable"
// @Router      /v1/media/{id} [get]
func (h *mediaHandler) download(c echo.Context) error {
	id, err := pathID(c, media.ErrNotFound)
	if err != nil {
		return err
	}
	return h.serve(c, principal(c).WorkspaceID, id)
}

// serve streams the workspace's media through http.ServeContent, which answers ranges and
// conditional requests from the reader's Seek and the ETag header.
func (h *mediaHandler) serve(c echo.Context, ws, id uuid.UUID) error {
	m, rd, err := h.media.Open(c.Request().Context(), ws, id)
	if err != nil {
		return err
	}
	defer rd.Close()
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, m.MimeType)
	hd.Set("ETag", `"`+m.SHA256+`"`)
	hd.Set(echo.HeaderContentDisposition, contentDisposition(m))
	hd.Set(echo.HeaderXContentTypeOptions, "nosniff")
	// The file is the workspace's: no shared cache keeps it. Opened as a page, it runs nothing
	// (an SVG's or an HTML file's scripts) and loads nothing.
	hd.Set("Cache-Control", "private")
	hd.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	http.ServeContent(&rangeProblem{ResponseWriter: c.Response(), c: c}, c.Request(), "", m.CreatedAt, rd)
	return nil
}

// rangeProblem answers http.ServeContent's 416, which it writes as text/plain, as a problem
// like every other error of the API.
type rangeProblem struct {
	http.ResponseWriter
	c       echo.Context
	swallow bool
}

func (w *rangeProblem) WriteHeader(status int) {
	if status != http.StatusRequestedRangeNotSatisfiable {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.swallow = true // ServeContent's text/plain body
	// http.Error has set text/plain, which echo would keep.
	for _, k := range []string{echo.HeaderContentType, echo.HeaderContentDisposition, echo.HeaderContentLength, "ETag"} {
		w.Header().Del(k)
	}
	// Content-Range (bytes */size) stays: it tells the client the file's size.
	w.c.Echo().HTTPErrorHandler(echo.NewHTTPError(status, "No range of the Range header is within the file; Content-Range gives its size."), w.c)
}

func (w *rangeProblem) Write(p []byte) (int, error) {
	if w.swallow {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// contentDisposition shows images, audio and video in the page, and has everything else saved;
// SVG is an image that can carry scripts, so it is saved too. The filename goes as an ASCII
// fallback and, when it has other characters, in RFC 5987 form (filename*), which browsers
// prefer.
func contentDisposition(m media.Media) string {
	kind := "attachment"
	base, _, _ := mime.ParseMediaType(m.MimeType)
	if t, _, _ := strings.Cut(base, "/"); (t == "image" || t == "audio" || t == "video") && base != "image/svg+xml" {
		kind = "inline"
	}
	if m.Filename == "" {
		return kind
	}
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, m.Filename)
	v := kind + `; filename="` + ascii + `"`
	if ascii != m.Filename {
		v += "; filename*=UTF-8''" + rfc5987(m.Filename)
	}
	return v
}

// rfc5987 percent-encodes s as an RFC 5987 value: attr-char stays, every other byte is %XX.
func rfc5987(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte(attrChar, ch) >= 0 {
			b.WriteByte(ch)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(ch)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

// signedURL godoc
// @Summary     Get a signed URL of a media file
// @ID          getMediaURL
// @Description A URL that serves the file like GET /v1/media/{id} (ranges included) without a bearer token, until expires_at (MEDIA_URL_TTL, 15 minutes by default): for an <img src>, a <video>, or a download link on a page of another origin. Who holds the URL can read the file until then; it cannot be revoked, so keep it short-lived and out of logs. It is based on PUBLIC_BASE_URL, or the request's scheme and host. Another workspace's media id answers 404.
// @Tags        media
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Media id"
// @Success     200 {object} resource.MediaURL
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "media_not_found"
// @Router      /v1/media/{id}/url [get]
func (h *mediaHandler) signedURL(c echo.Context) error {
	id, err := pathID(c, media.ErrNotFound)
	if err != nil {
		return err
	}
	ws := principal(c).WorkspaceID
	if _, err := h.media.Get(c.Request().Context(), ws, id); err != nil {
		return err
	}
	u, expires := h.urls.URL(publicBase(c, h.publicBaseURL), ws, id)
	return c.JSON(http.StatusOK, resource.MediaURL{URL: u, ExpiresAt: expires})
}

// signedDownload godoc
// @Summary     Download a media file by its signed URL
// @ID          getSignedMedia
// @Description What a URL from GET /v1/media/{id}/url serves: the file, as GET /v1/media/{id} does (ranges, conditional requests, the same headers), with no bearer token. Any page may embed it (Access-Control-Allow-Origin: *, Cross-Origin-Resource-Policy: cross-origin): the URL is the credential. A signature that does not verify, or an expired URL, answers 403 url_signature_invalid and tells nothing about the media.
// @Tags        media
// @Produce     */*
// @Param       id        path   string true  "Media id"
// @Param       workspace query  string true  "The media's workspace (from the signed URL)" format(uuid)
// @Param       expires   query  int    true  "When the URL expires, in Unix seconds (from the signed URL)"
// @Param       signature query  string true  "The URL's signature"
// @Param       Range     header string false "Byte ranges, e.g. bytes=0-1023"
// @Success     200 {file} binary
// @Success     206 {file} binary "The requested range(s)"
// @Success     304 "Not modified (If-None-Match)"
// @Header      200,206 {string} ETag "The quoted sha256 of the bytes"
// @Header      200,206 {string} Content-Disposition "inline or attachment, with the filename"
// @Failure     400 {object} Problem "invalid_query"
// @Failure     403 {object} Problem "invalid_signature"
// @Failure     404 {object} Problem "media_not_found"
// @Failure     412 "If-Match does not match"
// @Failure     416 {object} Problem "range_not_satisfiable"
// @Router      /v1/media/{id}/content [get]
func (h *mediaHandler) signedDownload(c echo.Context) error {
	// Whatever is wrong with the URL is one answer, so that a guessed URL learns nothing.
	id, errID := uuid.Parse(c.Param("id"))
	ws, errWS := uuid.Parse(c.QueryParam("workspace"))
	expires, errExp := strconv.ParseInt(c.QueryParam("expires"), 10, 64)
	if errID != nil || errWS != nil || errExp != nil {
		return media.ErrSignature
	}
	if err := h.urls.Verify(ws, id, expires, c.QueryParam("signature")); err != nil {
		return err
	}
	hd := c.Response().Header()
	// Any page may show it (<img>, fetch with or without CORS): the URL is the credential, and
	// no cookie rides along. Unless the CORS middleware already answered the page's origin.
	if hd.Get(echo.HeaderAccessControlAllowOrigin) == "" {
		hd.Set(echo.HeaderAccessControlAllowOrigin, "*")
	}
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return h.serve(c, ws, id)
}

// publicBase is where clients reach this server: PUBLIC_BASE_URL, or the request's scheme and
// host.
func publicBase(c echo.Context, configured string) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}
