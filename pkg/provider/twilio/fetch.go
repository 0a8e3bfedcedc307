package twilio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

// Media downloads a file of an inbound message from its MediaUrl. Twilio keeps the file
// behind HTTP basic auth with the account SID and auth token when the account requires it
// (its media resource redirects to a short-lived storage URL, where Go's client drops the
// credentials, as it does on any redirect to another host). The credentials go only to the
// API host the channel uses (api.twilio.com, or its api_base): a MediaUrl elsewhere is fetched
// without them, so a URL in a webhook can never collect the auth token. The request goes
// through download, a client for a destination the webhook named. The caller streams and
// closes the body.
func (c *Client) Media(ctx context.Context, mediaURL string, download *http.Client) (io.ReadCloser, provider.MediaInfo, error) {
	req, err := provider.GetRequest(ctx, name, mediaURL)
	if err != nil {
		return nil, provider.MediaInfo{}, err
	}
	if api, err := url.Parse(c.cfg.APIBase); err == nil && strings.EqualFold(req.URL.Host, api.Host) && req.URL.Scheme == api.Scheme {
		req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	}
	body, info, err := provider.Download(download, name, req, func(r *provider.Response) (string, string) {
		var apiErr struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(r.Body, &apiErr) == nil && apiErr.Code != 0 {
			return strconv.Itoa(apiErr.Code), apiErr.Message
		}
		return "", ""
	})
	if err != nil {
		if e, ok := err.(*provider.Error); ok {
			e.Redact(c.cfg.AuthToken)
		}
		return nil, provider.MediaInfo{}, err
	}
	return body, info, nil
}
