package sandbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/sandbox"
)

func TestSend(t *testing.T) {
	tests := []struct {
		name   string
		msg    provider.Message
		wantID string
	}{
		{"id from the message", provider.Message{ID: "0192f0c1-7a2b-7000-8000-000000000001", To: "+15558675310", Text: "hi"}, "sandbox-0192f0c1-7a2b-7000-8000-000000000001"},
		{"template", provider.Message{ID: "m2", To: "+15558675310", Type: "template", Template: &provider.Template{Name: "t", Language: "en"}}, "sandbox-m2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := sandbox.New().Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, tc.wantID)
		})
	}
	res, err := sandbox.New().Send(context.Background(), provider.Message{To: "x", Text: "no id"})
	if err != nil || !strings.HasPrefix(res.ProviderMessageID, "sandbox-") || len(res.ProviderMessageID) <= len("sandbox-") {
		t.Fatalf("generated id: %+v, %v", res, err)
	}
	if _, err := sandbox.New().Send(context.Background(), provider.Message{Text: "nobody"}); !provider.IsPermanent(err) {
		t.Fatalf("no recipient: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sandbox.New().Send(ctx, provider.Message{To: "x"}); err == nil || provider.IsPermanent(err) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestReceipts(t *testing.T) {
	at := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	got := sandbox.Receipts(provider.Result{ProviderMessageID: "sandbox-m1"}, at)
	want := []provider.Receipt{
		{ProviderMessageID: "sandbox-m1", Status: "sent", At: at},
		{ProviderMessageID: "sandbox-m1", Status: "delivered", At: at},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		pt.Equal(t, "receipt", got[i], want[i])
	}
}
