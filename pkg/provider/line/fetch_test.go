package line_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/line"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

func TestContent(t *testing.T) {
	fake := pt.NewMedia(t, accessToken)
	fake.Add("325708", []byte("\x89PNG\r\n\x1a\n a picture"), "image/png")
	fake.Add("325709", []byte("video"), "video/mp4")
	fake.Fail("325709", http.StatusAccepted) // still preparing the video
	c := line.New(line.Config{ChannelAccessToken: accessToken, ChannelSecret: channelSecret, APIBase: fake.URL + "/line"}, nil)

	body, info, err := c.Content(context.Background(), "325708")
	data := pt.Downloaded(t, body, err)
	pt.Equal(t, "bytes", string(data), "\x89PNG\r\n\x1a\n a picture")
	pt.Equal(t, "info", info, provider.MediaInfo{MIMEType: "image/png", Size: int64(len(data))})
	pt.Equal(t, "bearer", fake.Requests()[0].Header.Get("Authorization"), "Bearer "+accessToken)

	tests := []struct {
		name      string
		id        string
		permanent bool
		status    int
	}{
		{"unknown message id", "404", true, http.StatusNotFound},
		{"video still preparing", "325709", false, http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.Content(context.Background(), tc.id)
			pt.DownloadFailed(t, err, tc.permanent, tc.status, accessToken, channelSecret)
		})
	}
}
