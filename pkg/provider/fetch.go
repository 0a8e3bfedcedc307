package provider

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MediaInfo is what a provider says of a file it hands over, each field when it says it. The
// media store sniffs the type from the bytes and counts them itself; Size only lets a fetch
// refuse a file over the cap before downloading it.
type MediaInfo struct {
	MIMEType string
	Filename string
	Size     int64 // 0: not said
}

// CodeTooLarge is the code of the permanent error for a file the provider declares larger
// than the caller's cap: it is refused before it is downloaded.
const CodeTooLarge = "file_too_large"

// TooLarge is the error for a file the provider declares larger than maxBytes.
func TooLarge(provider string, size, maxBytes int64) *Error {
	return &Error{Provider: provider, Permanent: true, Code: CodeTooLarge,
		Text: fmt.Sprintf("the file is %d bytes, over the limit of %d", size, maxBytes)}
}

// GetRequest builds a GET of a media file with a context. A URL that is malformed or not
// http(s) is a permanent error (a retry cannot fix it) whose text never repeats the URL, which
// may hold a credential (Telegram's file URLs hold the bot token).
func GetRequest(ctx context.Context, provider, rawURL string) (*http.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &Error{Provider: provider, Permanent: true, Code: "invalid_media_url", Text: "the media URL is malformed"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Provider: provider, Permanent: true, Code: "invalid_media_url", Text: "the media URL is malformed"}
	}
	return req, nil
}

// Download sends req, the GET of a media file, and answers its body unread, for the caller
// to stream into the media store and close, with the type, file name and size the answer
// declares. A request that gets no answer is a transient *Error (FromTransport); an answer
// that is not 2xx is an *Error classified by its status (FromResponse: 404 and 403 are
// permanent, 429 and 5xx transient), with the provider's code and text when errorText reads
// them from the (bounded) body. 202 Accepted is transient too: the provider has the file but
// is still preparing it (LINE's videos and audio).
func Download(client *http.Client, provider string, req *http.Request, errorText func(*Response) (code, text string)) (io.ReadCloser, MediaInfo, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, MediaInfo{}, FromTransport(provider, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
		code, text := "", ""
		if errorText != nil {
			code, text = errorText(r)
		}
		return nil, MediaInfo{}, FromResponse(provider, r, code, text)
	}
	if resp.StatusCode == http.StatusAccepted {
		resp.Body.Close()
		return nil, MediaInfo{}, &Error{Provider: provider, Code: "202", HTTPStatus: resp.StatusCode,
			Text: "the provider is still preparing the file"}
	}
	info := MediaInfo{Size: max(resp.ContentLength, 0)}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		info.MIMEType = strings.ToLower(mt)
	}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		info.Filename = params["filename"]
	}
	return resp.Body, info, nil
}

// Fetch downloads a file by a link the provider gave, with no credentials (Messenger's and
// Instagram's CDN URLs, Viber's media, LINE's external content): GetRequest, then Download.
func Fetch(ctx context.Context, client *http.Client, provider, rawURL string) (io.ReadCloser, MediaInfo, error) {
	req, err := GetRequest(ctx, provider, rawURL)
	if err != nil {
		return nil, MediaInfo{}, err
	}
	return Download(client, provider, req, nil)
}
