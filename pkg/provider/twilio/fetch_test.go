package twilio_test

import (
	"context"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/twilio"
)

// TestMedia: a MediaUrl on the channel's API host is fetched with the account's basic auth;
// one elsewhere is fetched without it, so a webhook cannot send the auth token anywhere.
func TestMedia(t *testing.T) {
	fake := pt.NewMedia(t, "")
	fake.BasicAuth = accountSID + ":" + authToken
	fake.Add("ME1", []byte("\xff\xd8\xff\xe0 mms"), "image/jpeg")
	c := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15017122661", APIBase: fake.URL}, nil)

	body, info, err := c.Media(context.Background(), fake.File("ME1"), nil)
	data := pt.Downloaded(t, body, err)
	pt.Equal(t, "bytes", string(data), "\xff\xd8\xff\xe0 mms")
	pt.Equal(t, "info", info, provider.MediaInfo{MIMEType: "image/jpeg", Size: int64(len(data))})

	other := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15017122661", APIBase: "https://api.twilio.com"}, nil)
	_, _, err = other.Media(context.Background(), fake.File("ME1"), nil)
	if !provider.IsPermanent(err) {
		t.Fatalf("a URL off the API host: %v, want a permanent 401", err)
	}
	last := fake.Requests()[len(fake.Requests())-1]
	pt.Equal(t, "no credentials off the API host", last.Header.Get("Authorization"), "")
	pt.NoSecret(t, err, nil, authToken)
	if _, _, err := c.Media(context.Background(), "ftp://example.com/x", nil); !provider.IsPermanent(err) {
		t.Errorf("a URL that is not http(s): %v", err)
	}
}
