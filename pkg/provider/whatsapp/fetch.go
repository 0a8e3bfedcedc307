package whatsapp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/meta"
)

// Media downloads the media of an inbound message by its media id, in two steps (Cloud API
// "Retrieve media URL" and "Download media"): GET {base}/{media-id}?phone_number_id=... answers
// {url, mime_type, sha256, file_size}, and the url, fetched with the same bearer token, is the
// file. The url is Meta's own (lookaside.fbsbx.com) and valid for minutes, so it is fetched at
// once, through download: a client for a destination the webhook named rather than the
// configured API host. A file_size over maxBytes is refused before the download
// (provider.TooLarge). The caller streams and closes the body.
func (c *Client) Media(ctx context.Context, id string, maxBytes int64, download *http.Client) (io.ReadCloser, provider.MediaInfo, error) {
	if id == "" {
		return nil, provider.MediaInfo{}, provider.Invalid(name, "no media id")
	}
	endpoint := c.cfg.APIBase + "/" + url.PathEscape(id) + "?phone_number_id=" + url.QueryEscape(c.cfg.PhoneNumberID)
	req, err := provider.GetRequest(ctx, name, endpoint)
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	if !resp.OK() {
		return nil, provider.MediaInfo{}, meta.ErrorFor(name, resp, permanent, transient).Redact(c.cfg.AccessToken, c.cfg.AppSecret)
	}
	var m struct {
		URL      string `json:"url"`
		MIMEType string `json:"mime_type"`
		// file_size is a string in Meta's examples and a number in some SDKs' models.
		FileSize provider.ID `json:"file_size"`
	}
	if err := json.Unmarshal(resp.Body, &m); err != nil || m.URL == "" {
		return nil, provider.MediaInfo{}, &provider.Error{Provider: name, Permanent: true, Code: "unreadable_response",
			Text: "the media id's answer has no URL"}
	}
	size, _ := strconv.ParseInt(string(m.FileSize), 10, 64)
	if maxBytes > 0 && size > maxBytes {
		return nil, provider.MediaInfo{}, provider.TooLarge(name, size, maxBytes)
	}
	req, err = provider.GetRequest(ctx, name, m.URL)
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	body, info, err := provider.Download(download, name, req, func(r *provider.Response) (string, string) {
		if ge, ok := meta.ParseError(r.Body); ok {
			return strconv.Itoa(ge.Code), ge.Message
		}
		return "", ""
	})
	if err != nil {
		return nil, provider.MediaInfo{}, redact(err, c.cfg)
	}
	if info.MIMEType == "" || info.MIMEType == "application/octet-stream" {
		info.MIMEType = m.MIMEType
	}
	if size > 0 {
		info.Size = size
	}
	return body, info, nil
}

// redact scrubs the channel's secrets from a provider error, in case Meta echoes one.
func redact(err error, cfg Config) error {
	if e, ok := err.(*provider.Error); ok {
		return e.Redact(cfg.AccessToken, cfg.AppSecret)
	}
	return err
}
