package api_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
)

func TestChannelCRUD(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")

	// Without a provider: the sandbox, and the type's rule options with defaults.
	var sb channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "messenger", "name": "  Facebook page  "}).Expect(t, http.StatusCreated).JSON(t, &sb)
	if sb.Provider != "sandbox" || sb.Name != "Facebook page" || sb.RuleOptions["human_agent_tag"] != true || len(sb.SecretsSet) != 0 || len(sb.Config) != 0 {
		t.Fatalf("sandbox channel: %+v", sb)
	}

	// A provider's secrets are sealed: never returned, not in the database in the clear.
	var wa channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WhatsApp", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "1055", "access_token": "EAAG-secret-token", "app_secret": "app-secret-1", "verify_token": "vt"}}).
		Expect(t, http.StatusCreated).JSON(t, &wa)
	if !slices.Equal(wa.SecretsSet, []string{"access_token", "app_secret", "verify_token"}) || len(wa.Config) != 1 || wa.Config["phone_number_id"] != "1055" {
		t.Fatalf("whatsapp channel: %+v", wa)
	}
	r := e.Get(t, "/v1/channels/"+wa.ID, agent.Token).Expect(t, http.StatusOK)
	if bytes.Contains(r.Body, []byte("EAAG")) || bytes.Contains(r.Body, []byte("app-secret-1")) {
		t.Fatalf("GET leaks a secret: %s", r.Body)
	}
	var raw []byte
	if err := e.Store.Pool.QueryRow(context.Background(), `SELECT secrets FROM channels WHERE id = $1`, wa.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) < 40 || bytes.Contains(raw, []byte("EAAG")) || bytes.Contains(raw, []byte("app-secret-1")) {
		t.Fatalf("secrets stored in the clear or not at all: %q", raw)
	}
	secrets := func(id string) map[string]string {
		ch, err := e.Store.Channel(context.Background(), uuid.MustParse(w.ID), uuid.MustParse(id))
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Services.Channels.Secrets(ch)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := secrets(wa.ID); s["access_token"] != "EAAG-secret-token" || s["app_secret"] != "app-secret-1" {
		t.Fatalf("secrets do not open: %v", s)
	}

	// PATCH merges config: secrets not mentioned are kept, null clears an optional one.
	var upd channelBody
	e.Patch(t, "/v1/channels/"+wa.ID, w.OwnerToken, map[string]any{"name": "WA EU", "config": map[string]any{"phone_number_id": "2066", "verify_token": nil}}).
		Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Name != "WA EU" || upd.Config["phone_number_id"] != "2066" || !slices.Equal(upd.SecretsSet, []string{"access_token", "app_secret"}) {
		t.Fatalf("patched: %+v", upd)
	}
	if s := secrets(wa.ID); s["access_token"] != "EAAG-secret-token" || s["verify_token"] != "" {
		t.Fatalf("secrets after patch: %v", s)
	}
	// Removing a required secret is refused.
	e.Patch(t, "/v1/channels/"+wa.ID, w.OwnerToken, map[string]any{"config": map[string]any{"access_token": nil}}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	// A new provider replaces the config.
	upd = channelBody{}
	e.Patch(t, "/v1/channels/"+wa.ID, w.OwnerToken, map[string]any{"provider": "twilio",
		"config": map[string]any{"account_sid": "AC1", "auth_token": "tw-secret", "from": "+12025550100"}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Provider != "twilio" || upd.Config["account_sid"] != "AC1" || upd.Config["phone_number_id"] != nil || !slices.Equal(upd.SecretsSet, []string{"auth_token"}) {
		t.Fatalf("provider change: %+v", upd)
	}
	upd = channelBody{}
	e.Patch(t, "/v1/channels/"+wa.ID, w.OwnerToken, map[string]any{"provider": "sandbox"}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Provider != "sandbox" || len(upd.Config) != 0 || len(upd.SecretsSet) != 0 {
		t.Fatalf("back to sandbox: %+v", upd)
	}

	// Rule options merge; null restores the default.
	e.Patch(t, "/v1/channels/"+sb.ID, w.OwnerToken, map[string]any{"rule_options": map[string]any{"human_agent_tag": false}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.RuleOptions["human_agent_tag"] != false {
		t.Fatalf("rule options: %v", upd.RuleOptions)
	}
	e.Patch(t, "/v1/channels/"+sb.ID, w.OwnerToken, map[string]any{"rule_options": map[string]any{"human_agent_tag": nil}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.RuleOptions["human_agent_tag"] != true {
		t.Fatalf("rule options reset: %v", upd.RuleOptions)
	}
	var viber channelBody
	e.Post(t, "/v1/channels", w.APIKey, map[string]any{"type": "viber", "name": "Viber", "rule_options": map[string]any{"monthly_initiated_limit": 500}}).
		Expect(t, http.StatusCreated).JSON(t, &viber)
	if viber.RuleOptions["monthly_initiated_limit"] != float64(500) || viber.RuleOptions["commercial_terms_accepted"] != false {
		t.Fatalf("viber options: %v", viber.RuleOptions)
	}

	// Who may do what: agents read channels, only admins change them.
	e.Post(t, "/v1/channels", agent.Token, map[string]any{"type": "sms", "name": "x"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Patch(t, "/v1/channels/"+sb.ID, agent.Token, map[string]any{"name": "x"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Delete(t, "/v1/channels/"+sb.ID, agent.Token).ExpectProblem(t, http.StatusForbidden, "forbidden")
	contactsOnly := e.NewKey(t, w, "contacts:read")
	e.Get(t, "/v1/channels", contactsOnly).ExpectProblem(t, http.StatusForbidden, "forbidden")
	var list struct {
		Data []channelBody `json:"data"`
	}
	e.Get(t, "/v1/channels", agent.Token).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 3 || list.Data[0].ID != sb.ID || list.Data[2].ID != viber.ID {
		t.Fatalf("list: %+v", list.Data)
	}
}

func TestChannelDeleteArchivesUsedChannels(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	empty := newChannel(t, e, w.OwnerToken, "instagram")
	used := newChannel(t, e, w.OwnerToken, "telegram")
	in := ingest(t, e, w.APIKey, used, map[string]any{"identifier": "42", "text": "hi"})
	// An identity alone does not keep a channel: it goes with it.
	contact := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Ig"})
	e.Post(t, "/v1/contacts/"+contact+"/channels", w.OwnerToken, map[string]any{"channel_id": empty, "identifier": "ig-1"}).Expect(t, http.StatusCreated)

	e.Delete(t, "/v1/channels/"+empty, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/channels/"+empty, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "channel_not_found")
	if n := count(t, e, `SELECT count(*) FROM contact_identities WHERE channel_id = $1`, empty); n != 0 {
		t.Fatalf("%d identities left on a deleted channel", n)
	}

	e.Delete(t, "/v1/channels/"+used, w.OwnerToken).Expect(t, http.StatusNoContent)
	var ch channelBody
	e.Get(t, "/v1/channels/"+used, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &ch)
	if ch.ArchivedAt == nil {
		t.Fatalf("a channel with messages was not archived: %+v", ch)
	}
	var list struct {
		Data []channelBody `json:"data"`
	}
	e.Get(t, "/v1/channels", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 0 {
		t.Fatalf("archived channel listed: %+v", list.Data)
	}
	e.Get(t, "/v1/channels?include_archived=true", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != used {
		t.Fatalf("include_archived: %+v", list.Data)
	}
	// The history stays; new traffic is refused.
	e.Get(t, "/v1/conversations/"+in.Conversation.ID+"/messages", w.OwnerToken).Expect(t, http.StatusOK)
	e.Post(t, "/v1/channels/"+used+"/inbound", w.APIKey, map[string]any{"identifier": "42", "text": "still there?"}).
		ExpectProblem(t, http.StatusConflict, "channel_archived")
	e.Post(t, "/v1/contacts/"+contact+"/channels", w.OwnerToken, map[string]any{"channel_id": used, "identifier": "43"}).
		ExpectProblem(t, http.StatusConflict, "channel_archived")
	e.Delete(t, "/v1/channels/"+used, w.OwnerToken).Expect(t, http.StatusNoContent)
	if n := count(t, e, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("%d messages after archiving", n)
	}
}

func TestChannelSecretsNeedAKey(t *testing.T) {
	e := apitest.New(t, func(c *config.Config) { c.SecretsKey = nil })
	w := e.NewWorkspace(t, "Acme")
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "telegram", "name": "Bot", "provider": "telegram",
		"config": map[string]any{"bot_token": "123:abc", "secret_token": "s"}}).ExpectProblem(t, http.StatusUnprocessableEntity, "secrets_unavailable")
	if n := count(t, e, `SELECT count(*) FROM channels`); n != 0 {
		t.Fatalf("%d channels stored without a key", n)
	}
	// Sandbox channels need no secrets.
	newChannel(t, e, w.OwnerToken, "telegram")
}

func TestChannelAPIBaseOverride(t *testing.T) {
	body := map[string]any{"type": "line", "name": "LINE", "provider": "line",
		"config": map[string]any{"channel_access_token": "t", "channel_secret": "s", "api_base": "http://127.0.0.1:9/line"}}
	off := apitest.New(t)
	w := off.NewWorkspace(t, "Acme")
	r := off.Post(t, "/v1/channels", w.OwnerToken, body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if !problemFields(t, r)["config.api_base"] {
		t.Fatalf("problem does not name config.api_base: %s", r.Body)
	}
	on := apitest.New(t, func(c *config.Config) { c.ProviderAPIBaseOverride = true })
	w = on.NewWorkspace(t, "Acme")
	var ch channelBody
	on.Post(t, "/v1/channels", w.OwnerToken, body).Expect(t, http.StatusCreated).JSON(t, &ch)
	if ch.Config["api_base"] != "http://127.0.0.1:9/line" {
		t.Fatalf("api_base: %+v", ch.Config)
	}
}

func TestContactIdentities(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	sms := newChannel(t, e, w.OwnerToken, "sms")
	mail := newChannel(t, e, w.OwnerToken, "email")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	maria := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Maria"})
	other := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Other"})

	cases := []struct {
		name, contact, channel, identifier string
		status                             int
		code, want                         string
	}{
		{"national phone to E.164", maria, wa, "(415) 555-0100", 201, "", "+14155550100"},
		{"international phone", maria, sms, "+44 20 7946 0958", 201, "", "+442079460958"},
		{"email lower-cased", maria, mail, "  Maria@Example.COM ", 201, "", "maria@example.com"},
		{"platform id kept as given", maria, tg, "  AbC123xyz ", 201, "", "AbC123xyz"},
		{"same number on the same channel", other, wa, "+1 415 555 0100", 409, "identity_exists", ""},
		{"same number on another channel is fine", other, sms, "+1 415 555 0100", 201, "", "+14155550100"},
		{"not a phone", other, wa, "call me", 422, "validation_failed", ""},
		{"not an email", other, mail, "maria@", 422, "validation_failed", ""},
		{"platform id too long", other, tg, string(bytes.Repeat([]byte("x"), 257)), 422, "validation_failed", ""},
		{"unknown contact", uuid.NewString(), tg, "77", 404, "contact_not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, "/v1/contacts/"+tc.contact+"/channels", w.OwnerToken, map[string]any{"channel_id": tc.channel, "identifier": tc.identifier})
			if tc.status != 201 {
				r.ExpectProblem(t, tc.status, tc.code)
				if tc.code == "identity_exists" && r.Map(t)["existing_id"] != maria {
					t.Fatalf("conflict does not name the holder: %s", r.Body)
				}
				return
			}
			var id identityBody
			r.Expect(t, http.StatusCreated).JSON(t, &id)
			if id.Identifier != tc.want || id.ChannelID != tc.channel || id.LastInboundAt != nil {
				t.Fatalf("identity: %+v", id)
			}
		})
	}
	var page struct {
		Data       []identityBody `json:"data"`
		NextCursor *string        `json:"next_cursor"`
	}
	e.Get(t, "/v1/contacts/"+maria+"/channels?limit=3", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 3 || page.NextCursor == nil || page.Data[0].ChannelType != "whatsapp" || page.Data[2].ChannelType != "email" {
		t.Fatalf("first page: %+v", page)
	}
	e.Get(t, "/v1/contacts/"+maria+"/channels?limit=3&cursor="+*page.NextCursor, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 1 || page.NextCursor != nil || page.Data[0].Identifier != "AbC123xyz" {
		t.Fatalf("second page: %+v", page)
	}
	// A contact without identities has an empty list, not a 404.
	fresh := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Fresh"})
	e.Get(t, "/v1/contacts/"+fresh+"/channels", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("fresh contact: %+v", page.Data)
	}
	// Inbound on an identity added through the API finds its contact.
	in := ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "AbC123xyz", "text": "hi"})
	if in.Contact.ID != maria {
		t.Fatalf("inbound found %s, want %s", in.Contact.ID, maria)
	}
}
