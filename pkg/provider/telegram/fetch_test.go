package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/telegram"
)

func TestFile(t *testing.T) {
	fake := pt.NewMedia(t, botToken)
	fake.Add("BQACAgIAAxkBAAIC", []byte("%PDF-1.4 an invoice"), "application/octet-stream")
	fake.Fail("AgACAgQAAxkBAAIB", http.StatusBadGateway)
	c := telegram.New(telegram.Config{BotToken: botToken, SecretToken: secretToken, APIBase: fake.URL + "/tg"}, nil)

	body, info, err := c.File(context.Background(), "BQACAgIAAxkBAAIC", 1<<20)
	data := pt.Downloaded(t, body, err)
	pt.Equal(t, "bytes", string(data), "%PDF-1.4 an invoice")
	pt.Equal(t, "info: octet-stream says nothing", info, provider.MediaInfo{Filename: "BQACAgIAAxkBAAIC.bin", Size: int64(len(data))})
	pt.Equal(t, "getFile body", string(fake.Requests()[0].Body), `{"file_id":"BQACAgIAAxkBAAIC"}`)

	tests := []struct {
		name      string
		id        string
		permanent bool
		status    int
	}{
		{"unknown file id", "nope", true, http.StatusNotFound},
		{"Bot API unavailable", "AgACAgQAAxkBAAIB", false, http.StatusBadGateway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.File(context.Background(), tc.id, 1<<20)
			pt.DownloadFailed(t, err, tc.permanent, tc.status, botToken, secretToken)
		})
	}
}

// TestFileOverTheCap: a file_size over the cap is refused before the file is requested.
func TestFileOverTheCap(t *testing.T) {
	fake := pt.NewMedia(t, botToken)
	fake.Add("BQACAgIAAxkBAAIC", []byte("%PDF-1.4 an invoice"), "application/octet-stream")
	c := telegram.New(telegram.Config{BotToken: botToken, SecretToken: secretToken, APIBase: fake.URL + "/tg"}, nil)
	_, _, err := c.File(context.Background(), "BQACAgIAAxkBAAIC", 4)
	var e *provider.Error
	if !errors.As(err, &e) || e.Code != provider.CodeTooLarge || !e.Permanent {
		t.Fatalf("File over the cap = %v, want a permanent %s", err, provider.CodeTooLarge)
	}
	pt.Equal(t, "only getFile was called", len(fake.Requests()), 1)
}
