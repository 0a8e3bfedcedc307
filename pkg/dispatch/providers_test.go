package dispatch

import (
	"net/url"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/rules"
)

// TestAdaptersTakeTheirProvidersConfig: every provider of pkg/channel's table has an adapter
// here and no adapter is for an unknown provider, and each adapter takes the Config that
// channel.Settings decodes for its provider (a mismatch would panic in a send or a webhook).
func TestAdaptersTakeTheirProvidersConfig(t *testing.T) {
	names := channel.ProviderNames()
	for name := range adapters {
		if !slices.Contains(names, name) {
			t.Errorf("adapter %s is for a provider pkg/channel does not know", name)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			a, ok := adapters[name]
			if !ok {
				t.Fatalf("no adapter for provider %s", name)
			}
			ch := channel.Channel{Provider: name, Type: rules.WhatsApp, Config: map[string]any{}}
			s := settings{ch: ch, config: channel.Settings(ch, map[string]string{})}
			if a.sender(s, clients{}) == nil {
				t.Error("sender is nil")
			}
			if a.verify != nil {
				_ = a.verify(s, Webhook{})
			}
			if a.handshake != nil {
				_, _ = a.handshake(s, url.Values{})
			}
		})
	}
}
