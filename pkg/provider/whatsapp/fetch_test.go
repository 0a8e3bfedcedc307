package whatsapp_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/whatsapp"
)

func TestMedia(t *testing.T) {
	fake := pt.NewMedia(t, accessToken)
	fake.Add("1003383421387256", []byte("\xff\xd8\xff\xe0 a photo"), "image/jpeg")
	fake.Fail("1003383421387257", http.StatusServiceUnavailable)
	c := whatsapp.New(whatsapp.Config{PhoneNumberID: "106540352242922", AccessToken: accessToken, AppSecret: appSecret,
		APIBase: fake.URL + "/wa"}, nil)

	body, info, err := c.Media(context.Background(), "1003383421387256", 1<<20, nil)
	data := pt.Downloaded(t, body, err)
	pt.Equal(t, "bytes", string(data), "\xff\xd8\xff\xe0 a photo")
	pt.Equal(t, "info", info, provider.MediaInfo{MIMEType: "image/jpeg", Size: int64(len(data))})
	reqs := fake.Requests()
	pt.Equal(t, "requests", len(reqs), 2)
	pt.Equal(t, "metadata names the phone number", reqs[0].RawQuery, "phone_number_id=106540352242922")
	for _, r := range reqs {
		pt.Equal(t, r.Path+" bearer", r.Header.Get("Authorization"), "Bearer "+accessToken)
	}

	tests := []struct {
		name      string
		id        string
		permanent bool
		status    int
	}{
		{"unknown media id", "404404", true, http.StatusNotFound},
		{"Graph unavailable", "1003383421387257", false, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.Media(context.Background(), tc.id, 1<<20, nil)
			pt.DownloadFailed(t, err, tc.permanent, tc.status, accessToken, appSecret)
		})
	}
}

// TestMediaOverTheCap: a file_size over the cap is refused before the file is requested.
func TestMediaOverTheCap(t *testing.T) {
	fake := pt.NewMedia(t, accessToken)
	fake.Add("1003383421387256", []byte("\xff\xd8\xff\xe0 a photo"), "image/jpeg")
	c := whatsapp.New(whatsapp.Config{PhoneNumberID: "106540352242922", AccessToken: accessToken, AppSecret: appSecret,
		APIBase: fake.URL + "/wa"}, nil)
	_, _, err := c.Media(context.Background(), "1003383421387256", 4, nil)
	var e *provider.Error
	if !errors.As(err, &e) || e.Code != provider.CodeTooLarge || !e.Permanent {
		t.Fatalf("Media over the cap = %v, want a permanent %s", err, provider.CodeTooLarge)
	}
	pt.Equal(t, "only the metadata was asked for", len(fake.Requests()), 1)
}
