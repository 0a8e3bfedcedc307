package telegram

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

// File downloads the file of an inbound message by its file_id, in two steps (Bot API
// getFile): getFile answers a File with file_path (and file_size), and
// {base}/file/bot<token>/<file_path> is the file. Bots may download files up to 20 MB: a
// bigger one is refused by getFile with 400 "file is too big", a permanent error. Both
// requests go to the Bot API host, with the token in the path, so no error ever holds a URL.
// A file_size over maxBytes is refused before the download (provider.TooLarge). The caller
// streams and closes the body.
func (c *Client) File(ctx context.Context, fileID string, maxBytes int64) (io.ReadCloser, provider.MediaInfo, error) {
	if fileID == "" {
		return nil, provider.MediaInfo{}, provider.Invalid(name, "no file id")
	}
	req, err := provider.JSONRequest(ctx, name, c.cfg.APIBase+"/bot"+c.cfg.BotToken+"/getFile", map[string]string{"file_id": fileID})
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	raw, err := c.read(resp)
	if _, failed := err.(*provider.Error); failed {
		return nil, provider.MediaInfo{}, err
	}
	var file struct {
		FilePath string `json:"file_path"`
		FileSize int64  `json:"file_size"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &file)
	}
	if err != nil || file.FilePath == "" {
		return nil, provider.MediaInfo{}, &provider.Error{Provider: name, Permanent: true, Code: "unreadable_response",
			Text: "getFile answered no file_path"}
	}
	if size := file.FileSize; maxBytes > 0 && size > maxBytes {
		return nil, provider.MediaInfo{}, provider.TooLarge(name, size, maxBytes)
	}
	// file_path is Telegram's own ("photos/file_1.jpg"): each segment is escaped, the slashes kept.
	segments := strings.Split(file.FilePath, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	req, err = provider.GetRequest(ctx, name, c.cfg.APIBase+"/file/bot"+c.cfg.BotToken+"/"+strings.Join(segments, "/"))
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	body, info, err := provider.Download(c.http, name, req, nil)
	if err != nil {
		if e, ok := err.(*provider.Error); ok {
			e.Redact(c.cfg.BotToken, c.cfg.SecretToken)
		}
		return nil, provider.MediaInfo{}, err
	}
	if file.FileSize > 0 {
		info.Size = file.FileSize
	}
	// The Bot API serves files as application/octet-stream; the name is the path's last part.
	info.Filename = file.FilePath[strings.LastIndexByte(file.FilePath, '/')+1:]
	if info.MIMEType == "application/octet-stream" {
		info.MIMEType = ""
	}
	return body, info, nil
}
