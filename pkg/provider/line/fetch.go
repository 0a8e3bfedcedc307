package line

import (
	"context"
	"encoding/json"
	"io"
	"net/url"

	"github.com/switchboard/switchboard/pkg/provider"
)

// DefaultDataBase is the Messaging API host that serves content (api-data, not api).
const DefaultDataBase = "https://api-data.line.me"

// Content downloads the image, video, audio or file of an inbound message by its message id:
// GET {data host}/v2/bot/message/{messageId}/content with the channel access token. The data
// host is api-data.line.me, or the channel's api_base when it overrides the API host (tests).
// A video or audio LINE is still preparing answers 202 with no content: a transient error, so
// the fetch is tried again later. The caller streams and closes the body.
func (c *Client) Content(ctx context.Context, messageID string) (io.ReadCloser, provider.MediaInfo, error) {
	if messageID == "" {
		return nil, provider.MediaInfo{}, provider.Invalid(name, "no message id")
	}
	base := c.cfg.APIBase
	if base == DefaultAPIBase {
		base = DefaultDataBase
	}
	req, err := provider.GetRequest(ctx, name, base+"/v2/bot/message/"+url.PathEscape(messageID)+"/content")
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.ChannelAccessToken)
	body, info, err := provider.Download(c.http, name, req, func(r *provider.Response) (string, string) {
		var answer struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(r.Body, &answer)
		return "", answer.Message
	})
	if err != nil {
		if e, ok := err.(*provider.Error); ok {
			e.Redact(c.cfg.ChannelAccessToken, c.cfg.ChannelSecret)
		}
		return nil, provider.MediaInfo{}, err
	}
	return body, info, nil
}
