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

	// PATCH merges config: secrets not mentioned are kept, null clears an optional one. The
	// body names the channel's type, and its provider with config.
	var upd channelBody
	e.Patch(t, "/v1/channels/"+wa.ID, w.OwnerToken, map[string]any{"type": "whatsapp", "provider": "whatsapp_cloud", "name": "WA EU",
		"config": map[string]any{"phone_number_id": "2066", "verify_token": nil}}).
		Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Name != "WA EU" || upd.Config["phone_number_id"] != "2066" || !slices.Equal(upd.SecretsSet, []string{"access_token", "app_secret"}) {
		t.Fatalf("patched: %+v", upd)
	}
	if s := secrets(wa.ID); s["access_token"] != "EAAG-secret-token" || s["verify_token"] != "" {
		t.Fatalf("secrets after patch: %v", s)
	}
	// Removing a required secret is refused.
	e.Patch(t, "/v1/channels/"+wa.ID, w.OwnerToken, map[string]any{"type": "whatsapp", "provider": "whatsapp_cloud", "config": map[string]any{"access_token": nil}}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	// A new provider replaces the config (PUT .../provider).
	upd = channelBody{}
	e.Put(t, "/v1/channels/"+wa.ID+"/provider", w.OwnerToken, map[string]any{"type": "whatsapp", "provider": "twilio",
		"config": map[string]any{"account_sid": "AC1", "auth_token": "tw-secret", "from": "+12025550100"}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Provider != "twilio" || upd.Config["account_sid"] != "AC1" || upd.Config["phone_number_id"] != nil || !slices.Equal(upd.SecretsSet, []string{"auth_token"}) {
		t.Fatalf("provider change: %+v", upd)
	}
	upd = channelBody{}
	e.Put(t, "/v1/channels/"+wa.ID+"/provider", w.OwnerToken, map[string]any{"type": "whatsapp", "provider": "sandbox"}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Provider != "sandbox" || len(upd.Config) != 0 || len(upd.SecretsSet) != 0 {
		t.Fatalf("back to sandbox: %+v", upd)
	}

	// Rule options merge; null restores the default.
	e.Patch(t, "/v1/channels/"+sb.ID, w.OwnerToken, map[string]any{"type": "messenger", "rule_options": map[string]any{"human_agent_tag": false}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.RuleOptions["human_agent_tag"] != false {
		t.Fatalf("rule options: %v", upd.RuleOptions)
	}
	e.Patch(t, "/v1/channels/"+sb.ID, w.OwnerToken, map[string]any{"type": "messenger", "rule_options": map[string]any{"human_agent_tag": nil}}).Expect(t, http.StatusOK).JSON(t, &upd)
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
	e.Patch(t, "/v1/channels/"+sb.ID, agent.Token, map[string]any{"type": "messenger", "name": "x"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Put(t, "/v1/channels/"+sb.ID+"/provider", agent.Token, map[string]any{"type": "messenger", "provider": "sandbox"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
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
	// Sandbox channels need no secrets; a switch to a provider with secrets is refused alike.
	sb := newChannel(t, e, w.OwnerToken, "telegram")
	e.Put(t, "/v1/channels/"+sb+"/provider", w.OwnerToken, map[string]any{"type": "telegram", "provider": "telegram",
		"config": map[string]any{"bot_token": "123:abc", "secret_token": "s"}}).ExpectProblem(t, http.StatusUnprocessableEntity, "secrets_unavailable")
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

// TestChannelChangesNameTheirChannel: PATCH names the channel's type, and its provider with
// config, so that its members mean one thing (and the spec can say exactly which); another
// type or provider is a conflict with the stored channel. PUT .../provider switches the
// provider, with its whole config, as create sets it.
func TestChannelChangesNameTheirChannel(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	var tw channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "sms", "name": "SMS", "provider": "twilio",
		"config": map[string]any{"account_sid": "AC1", "auth_token": "tw-secret", "from": "+12025550100"}}).Expect(t, http.StatusCreated).JSON(t, &tw)
	sandboxSMS := newChannel(t, e, w.OwnerToken, "sms")
	secrets := func(id string) map[string]string {
		t.Helper()
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
	twilio := func(config map[string]any) map[string]any {
		return map[string]any{"type": "sms", "provider": "twilio", "config": config}
	}
	fullTwilio := map[string]any{"account_sid": "AC9", "auth_token": "t", "from": "+12025550100"}

	// Refusals change nothing; each names what is wrong.
	patch, put := "/v1/channels/"+tw.ID, "/v1/channels/"+tw.ID+"/provider"
	cases := []struct {
		name, method, path string
		body               map[string]any
		status             int
		code, field        string
	}{
		{"patch: no type", "PATCH", patch, map[string]any{"name": "x"}, 422, "validation_failed", "type"},
		{"patch: unknown type", "PATCH", patch, map[string]any{"type": "fax"}, 422, "validation_failed", "type"},
		{"patch: another type", "PATCH", patch, map[string]any{"type": "whatsapp", "name": "x"}, 409, "channel_type_mismatch", ""},
		{"patch: another provider", "PATCH", patch, map[string]any{"type": "sms", "provider": "sandbox"}, 409, "provider_mismatch", ""},
		{"patch: another provider with its config", "PATCH", patch, map[string]any{"type": "sms", "provider": "smtp",
			"config": map[string]any{"host": "smtp.example.com", "from": "a@example.com"}}, 409, "provider_mismatch", ""},
		{"patch: unknown provider", "PATCH", patch, map[string]any{"type": "sms", "provider": "pigeon"}, 422, "validation_failed", "provider"},
		{"patch: config without its provider", "PATCH", patch, map[string]any{"type": "sms", "config": map[string]any{"account_sid": "AC2"}}, 422, "validation_failed", "provider"},
		{"patch: a required setting cleared", "PATCH", patch, twilio(map[string]any{"account_sid": nil}), 422, "validation_failed", "config.account_sid"},
		{"patch: a required secret cleared", "PATCH", patch, twilio(map[string]any{"auth_token": nil}), 422, "validation_failed", "config.auth_token"},
		{"patch: the sender cleared alone", "PATCH", patch, twilio(map[string]any{"from": nil}), 422, "validation_failed", "config.from"},
		{"patch: the sender's other member cleared alone", "PATCH", patch, twilio(map[string]any{"messaging_service_sid": nil}), 422, "validation_failed", "config.messaging_service_sid"},
		{"patch: two senders", "PATCH", patch, twilio(map[string]any{"from": "+12025550101", "messaging_service_sid": "MG1"}), 422, "validation_failed", "config.from"},
		{"patch: a setting of another provider", "PATCH", patch, twilio(map[string]any{"page_id": "1"}), 422, "validation_failed", "config.page_id"},
		{"patch: an option of another type", "PATCH", patch, map[string]any{"type": "sms", "rule_options": map[string]any{"window_hours": 24}}, 422, "validation_failed", "rule_options.window_hours"},
		{"put: no type", "PUT", put, map[string]any{"provider": "twilio", "config": fullTwilio}, 422, "validation_failed", "type"},
		{"put: another type", "PUT", put, map[string]any{"type": "whatsapp", "provider": "twilio", "config": fullTwilio}, 409, "channel_type_mismatch", ""},
		{"put: no provider", "PUT", put, map[string]any{"type": "sms"}, 422, "validation_failed", "provider"},
		{"put: a provider of another type", "PUT", put, map[string]any{"type": "sms", "provider": "telegram",
			"config": map[string]any{"bot_token": "t", "secret_token": "s"}}, 422, "validation_failed", "provider"},
		{"put: a required secret missing", "PUT", put, map[string]any{"type": "sms", "provider": "twilio",
			"config": map[string]any{"account_sid": "AC9", "from": "+12025550100"}}, 422, "validation_failed", "config.auth_token"},
		{"put: no sender", "PUT", put, map[string]any{"type": "sms", "provider": "twilio",
			"config": map[string]any{"account_sid": "AC9", "auth_token": "t"}}, 422, "validation_failed", "config.from"},
		{"put: config for the sandbox", "PUT", put, map[string]any{"type": "sms", "provider": "sandbox",
			"config": map[string]any{"token": "t"}}, 422, "validation_failed", "config.token"},
		{"put: unknown channel", "PUT", "/v1/channels/" + uuid.NewString() + "/provider", map[string]any{"type": "sms", "provider": "sandbox"}, 404, "channel_not_found", ""},
		{"put: malformed id", "PUT", "/v1/channels/42/provider", map[string]any{"type": "sms", "provider": "sandbox"}, 404, "channel_not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: w.OwnerToken, Body: tc.body}).ExpectProblem(t, tc.status, tc.code)
			if tc.field != "" && !problemFields(t, r)[tc.field] {
				t.Fatalf("problem does not name %s: %s", tc.field, r.Body)
			}
		})
	}
	var got channelBody
	e.Get(t, "/v1/channels/"+tw.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Provider != "twilio" || got.Config["account_sid"] != "AC1" || got.Config["from"] != "+12025550100" || secrets(tw.ID)["auth_token"] != "tw-secret" {
		t.Fatalf("a refused change changed the channel: %+v", got)
	}

	// A partial config is merged: the secret not mentioned is kept.
	var upd channelBody
	e.Patch(t, patch, w.OwnerToken, twilio(map[string]any{"account_sid": "AC2"})).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Config["account_sid"] != "AC2" || upd.Config["from"] != "+12025550100" || !slices.Equal(upd.SecretsSet, []string{"auth_token"}) || secrets(tw.ID)["auth_token"] != "tw-secret" {
		t.Fatalf("partial config: %+v, secrets %v", upd, secrets(tw.ID))
	}
	// Setting one of Twilio's senders replaces the other; naming the other null says the same.
	upd = channelBody{}
	e.Patch(t, patch, w.OwnerToken, twilio(map[string]any{"messaging_service_sid": "MG1"})).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Config["messaging_service_sid"] != "MG1" || upd.Config["from"] != nil {
		t.Fatalf("sender switched to a messaging service: %+v", upd.Config)
	}
	upd = channelBody{}
	e.Patch(t, patch, w.OwnerToken, twilio(map[string]any{"from": "+12025550101", "messaging_service_sid": nil})).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Config["from"] != "+12025550101" || upd.Config["messaging_service_sid"] != nil {
		t.Fatalf("sender switched back: %+v", upd.Config)
	}
	// Naming the provider without config changes nothing of it.
	upd = channelBody{}
	e.Patch(t, patch, w.OwnerToken, map[string]any{"type": "sms", "provider": "twilio", "name": "Twilio SMS"}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Name != "Twilio SMS" || upd.Config["account_sid"] != "AC2" || secrets(tw.ID)["auth_token"] != "tw-secret" {
		t.Fatalf("name only: %+v", upd)
	}

	// null clears an optional setting, and an optional secret.
	var mail channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "email", "name": "Mail", "provider": "smtp",
		"config": map[string]any{"host": "smtp.example.com", "from": "support@example.com", "port": 2525, "username": "u", "password": "p"}}).
		Expect(t, http.StatusCreated).JSON(t, &mail)
	upd = channelBody{}
	e.Patch(t, "/v1/channels/"+mail.ID, w.OwnerToken, map[string]any{"type": "email", "provider": "smtp",
		"config": map[string]any{"port": nil, "password": nil}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if _, ok := upd.Config["port"]; ok || upd.Config["username"] != "u" || upd.Config["host"] != "smtp.example.com" || len(upd.SecretsSet) != 0 {
		t.Fatalf("cleared port and password: %+v", upd)
	}

	// A rule option's null restores its default; the others keep their values.
	var viber channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "viber", "name": "Viber",
		"rule_options": map[string]any{"monthly_initiated_limit": 500, "commercial_terms_accepted": true}}).Expect(t, http.StatusCreated).JSON(t, &viber)
	upd = channelBody{}
	e.Patch(t, "/v1/channels/"+viber.ID, w.OwnerToken, map[string]any{"type": "viber", "rule_options": map[string]any{"monthly_initiated_limit": nil}}).
		Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.RuleOptions["monthly_initiated_limit"] != float64(10000) || upd.RuleOptions["commercial_terms_accepted"] != true {
		t.Fatalf("rule options after null: %v", upd.RuleOptions)
	}

	// PUT switches a sandbox channel to a provider with its whole config; secrets are sealed.
	upd = channelBody{}
	e.Put(t, "/v1/channels/"+sandboxSMS+"/provider", w.APIKey, map[string]any{"type": "sms", "provider": "twilio",
		"config": map[string]any{"account_sid": "AC7", "auth_token": "new-secret", "messaging_service_sid": "MG7"}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.ID != sandboxSMS || upd.Provider != "twilio" || upd.Config["account_sid"] != "AC7" || upd.Config["messaging_service_sid"] != "MG7" ||
		!slices.Equal(upd.SecretsSet, []string{"auth_token"}) || secrets(sandboxSMS)["auth_token"] != "new-secret" {
		t.Fatalf("switched to twilio: %+v, secrets %v", upd, secrets(sandboxSMS))
	}
	// Then PATCH takes the new provider's config, and refuses the old one's name.
	e.Patch(t, "/v1/channels/"+sandboxSMS, w.OwnerToken, map[string]any{"type": "sms", "provider": "sandbox"}).ExpectProblem(t, http.StatusConflict, "provider_mismatch")
	e.Patch(t, "/v1/channels/"+sandboxSMS, w.OwnerToken, twilio(map[string]any{"account_sid": "AC8"})).Expect(t, http.StatusOK)

	// An archived channel is changed and switched as any other.
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "42", "text": "hi"})
	e.Delete(t, "/v1/channels/"+tg, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Patch(t, "/v1/channels/"+tg, w.OwnerToken, map[string]any{"type": "telegram", "name": "Old bot"}).Expect(t, http.StatusOK)
	upd = channelBody{}
	e.Put(t, "/v1/channels/"+tg+"/provider", w.OwnerToken, map[string]any{"type": "telegram", "provider": "telegram",
		"config": map[string]any{"bot_token": "1:a", "secret_token": "s"}}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Provider != "telegram" || upd.Name != "Old bot" || upd.ArchivedAt == nil {
		t.Fatalf("archived channel switched: %+v", upd)
	}

	// Another workspace's channel is not found, by either.
	other := e.NewWorkspace(t, "Other")
	e.Patch(t, patch, other.OwnerToken, map[string]any{"type": "sms", "name": "mine now"}).ExpectProblem(t, http.StatusNotFound, "channel_not_found")
	e.Put(t, put, other.APIKey, map[string]any{"type": "sms", "provider": "sandbox"}).ExpectProblem(t, http.StatusNotFound, "channel_not_found")
}
