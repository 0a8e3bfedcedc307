package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
)

type decisionBody struct {
	Decision        string     `json:"decision"`
	ReasonCode      string     `json:"reason_code"`
	Reason          string     `json:"reason"`
	WindowExpiresAt *time.Time `json:"window_expires_at"`
	TagExpiresAt    *time.Time `json:"tag_expires_at"`
	AllowedTags     []string   `json:"allowed_tags"`
	Quota           *struct {
		Limit    int       `json:"limit"`
		Used     int       `json:"used"`
		ResetsAt time.Time `json:"resets_at"`
	} `json:"quota"`
	Billable    bool   `json:"billable"`
	RuleVersion string `json:"rule_version"`
}

type eligibilityBody struct {
	ContactID        string  `json:"contact_id"`
	DefaultChannelID *string `json:"default_channel_id"`
	Channels         []struct {
		ChannelID     string     `json:"channel_id"`
		ChannelType   string     `json:"channel_type"`
		Identifier    string     `json:"identifier"`
		LastInboundAt *time.Time `json:"last_inbound_at"`
		decisionBody
	} `json:"channels"`
}

type sendBody struct {
	Message struct {
		messageBody
		Billable bool    `json:"billable"`
		Tag      *string `json:"tag"`
		Template *struct {
			Name      string   `json:"name"`
			Language  string   `json:"language"`
			Variables []string `json:"variables"`
		} `json:"template"`
	} `json:"message"`
	Conversation conversationBody `json:"conversation"`
	Decision     decisionBody     `json:"decision"`
}

// sendEnv is a workspace with a contact reachable on one channel, whose last inbound message
// was `ago` before now.
type sendEnv struct {
	e       *apitest.Env
	w       *apitest.Workspace
	channel string
	contact string
}

func newSendEnv(t *testing.T, e *apitest.Env, w *apitest.Workspace, typ string, ruleOptions map[string]any, identifier string, ago time.Duration) sendEnv {
	t.Helper()
	body := map[string]any{"type": typ, "name": typ}
	if ruleOptions != nil {
		body["rule_options"] = ruleOptions
	}
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, body).Expect(t, http.StatusCreated).JSON(t, &ch)
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": identifier, "text": "hello",
		"received_at": e.Clock.Now().Add(-ago).Format(time.RFC3339)})
	return sendEnv{e: e, w: w, channel: ch.ID, contact: in.Contact.ID}
}

func (s sendEnv) send(t *testing.T, token string, body map[string]any) *apitest.Response {
	t.Helper()
	body["channel_id"] = s.channel
	return s.e.Post(t, "/v1/contacts/"+s.contact+"/messages", token, body)
}

func (s sendEnv) eligibility(t *testing.T, token string) decisionBody {
	t.Helper()
	var el eligibilityBody
	s.e.Get(t, "/v1/contacts/"+s.contact+"/send-eligibility", token).Expect(t, http.StatusOK).JSON(t, &el)
	for _, c := range el.Channels {
		if c.ChannelID == s.channel {
			return c.decisionBody
		}
	}
	t.Fatalf("no eligibility row for channel %s: %+v", s.channel, el)
	return decisionBody{}
}

// addTemplate creates a template on the channel through the API.
func addTemplate(t *testing.T, e *apitest.Env, token, channel, name, status, body string) {
	t.Helper()
	e.Post(t, "/v1/channels/"+channel+"/templates", token, map[string]any{"name": name, "language": "en_US",
		"category": "utility", "status": status, "body": body}).Expect(t, http.StatusCreated)
}

var (
	text       = map[string]any{"type": "text", "text": "Following up on your order"}
	humanAgent = map[string]any{"type": "text", "text": "Following up on your order", "tag": "HUMAN_AGENT"}
	approved   = map[string]any{"type": "template", "template": map[string]any{"name": "order_update", "language": "en_US", "variables": []string{"Maria"}}}
	pending    = map[string]any{"type": "template", "template": map[string]any{"name": "promo", "language": "en_US", "variables": []string{}}}
	noVars     = map[string]any{"type": "template", "template": map[string]any{"name": "order_update", "language": "en_US"}}
)

func copyBody(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestRuleTableThroughTheAPI walks every row of the channel rule table (DESIGN §4): an inbound
// message at a point in the past, the eligibility answer, and sends that the table predicts
// to pass (201) or to be refused (422 with the code and the decision).
func TestRuleTableThroughTheAPI(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	h := time.Hour
	day := 24 * h

	type attempt struct {
		body map[string]any
		code string // "" = 201
	}
	cases := []struct {
		name     string
		typ      string
		options  map[string]any
		ident    string
		ago      time.Duration
		decision string
		reason   string
		sends    []attempt
	}{
		{"whatsapp inside the window", "whatsapp", nil, "+14155550101", 1 * h, "allowed", "within_window",
			[]attempt{{text, ""}, {approved, ""}}},
		{"whatsapp after the window", "whatsapp", nil, "+14155550102", 30 * h, "template_required", "window_closed_template_required",
			[]attempt{{text, "template_required"}, {pending, "template_not_approved"}, {noVars, "template_variables_invalid"}, {approved, ""}}},
		{"messenger after 24h: HUMAN_AGENT", "messenger", nil, "psid-1", 30 * h, "tag_required", "human_agent_tag_window",
			[]attempt{{text, "tag_required"}, {map[string]any{"type": "text", "text": "x", "tag": "CONFIRMED_EVENT_UPDATE"}, "tag_not_allowed"}, {humanAgent, ""}}},
		{"messenger after 7 days", "messenger", nil, "psid-2", 8 * day, "blocked", "tag_window_expired",
			[]attempt{{humanAgent, "messaging_window_closed"}, {text, "messaging_window_closed"}}},
		{"messenger without the tag option", "messenger", map[string]any{"human_agent_tag": false}, "psid-3", 30 * h, "blocked", "window_closed",
			[]attempt{{humanAgent, "tag_not_allowed"}, {text, "messaging_window_closed"}}},
		{"instagram after 24h", "instagram", nil, "igsid-1", 30 * h, "blocked", "window_closed",
			[]attempt{{text, "messaging_window_closed"}}},
		{"instagram with the tag option", "instagram", map[string]any{"human_agent_tag": true}, "igsid-2", 30 * h, "tag_required", "human_agent_tag_window",
			[]attempt{{text, "tag_required"}, {humanAgent, ""}}},
		{"wechat at 47h", "wechat", nil, "openid-1", 47 * h, "allowed", "within_window",
			[]attempt{{text, ""}}},
		{"wechat at 49h", "wechat", nil, "openid-2", 49 * h, "template_required", "window_closed_template_required",
			[]attempt{{text, "template_required"}, {approved, ""}}},
		{"viber inside the session", "viber", nil, "viber-1", 2 * h, "allowed", "within_window",
			[]attempt{{text, ""}}},
		{"viber outside the session, quota left", "viber", map[string]any{"monthly_initiated_limit": 1}, "viber-2", 30 * h, "allowed", "quota_available",
			[]attempt{{text, ""}, {text, "quota_exceeded"}}},
		{"viber with commercial terms", "viber", map[string]any{"monthly_initiated_limit": 0, "commercial_terms_accepted": true}, "viber-3", 30 * h, "allowed", "commercial_terms",
			[]attempt{{text, ""}, {text, ""}}},
		{"telegram after 30 days", "telegram", nil, "555001", 30 * day, "allowed", "no_window", []attempt{{text, ""}}},
		{"line after 30 days", "line", nil, "U0001", 30 * day, "allowed", "no_window", []attempt{{text, ""}}},
		{"webchat after 30 days", "webchat", nil, "visitor-1", 30 * day, "allowed", "no_window", []attempt{{text, ""}}},
		{"sms after 30 days", "sms", nil, "+14155550199", 30 * day, "allowed", "no_window", []attempt{{text, ""}}},
		{"email after 30 days", "email", nil, "pat@example.com", 30 * day, "allowed", "no_window", []attempt{{text, ""}}},
		{"custom without a window", "custom", nil, "ext-1", 30 * day, "allowed", "no_window", []attempt{{text, ""}}},
		{"custom window, templates after", "custom", map[string]any{"window_hours": 24, "after_window": "template_required"}, "ext-2", 30 * h,
			"template_required", "window_closed_template_required", []attempt{{text, "template_required"}, {approved, ""}}},
		{"custom window, blocked after", "custom", map[string]any{"window_hours": 24, "after_window": "blocked"}, "ext-3", 30 * h,
			"blocked", "window_closed", []attempt{{text, "messaging_window_closed"}}},
		{"custom inside its window", "custom", map[string]any{"window_hours": 24, "after_window": "blocked"}, "ext-4", 23 * h,
			"allowed", "within_window", []attempt{{text, ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSendEnv(t, e, w, tc.typ, tc.options, tc.ident, tc.ago)
			addTemplate(t, e, w.OwnerToken, s.channel, "order_update", "approved", "Hi {{1}}, your order has shipped.")
			addTemplate(t, e, w.OwnerToken, s.channel, "promo", "pending", "Sale!")
			d := s.eligibility(t, agent.Token)
			if d.Decision != tc.decision || d.ReasonCode != tc.reason || d.RuleVersion == "" || d.Reason == "" {
				t.Fatalf("eligibility %+v, want %s/%s", d, tc.decision, tc.reason)
			}
			for i, a := range tc.sends {
				r := s.send(t, agent.Token, copyBody(a.body))
				if a.code == "" {
					var out sendBody
					r.Expect(t, http.StatusCreated).JSON(t, &out)
					if out.Message.Status != "queued" || out.Message.Direction != "outgoing" || out.Message.ChannelID != s.channel ||
						out.Conversation.LastMessage == nil || out.Conversation.LastMessage.ID != out.Message.ID {
						t.Fatalf("send %d: %s", i, r.Body)
					}
					if a.body["type"] == "template" && (out.Message.Text != "Hi Maria, your order has shipped." || out.Message.Template == nil) {
						t.Fatalf("send %d: template not rendered: %s", i, r.Body)
					}
					continue
				}
				r.ExpectProblem(t, http.StatusUnprocessableEntity, a.code)
				var p struct {
					Decision *decisionBody `json:"decision"`
				}
				r.JSON(t, &p)
				if p.Decision == nil || p.Decision.RuleVersion == "" {
					t.Fatalf("send %d: refusal without decision: %s", i, r.Body)
				}
			}
		})
	}
}

func TestWindowBoundaries(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	s := newSendEnv(t, e, w, "whatsapp", nil, "+14155550111", 23*time.Hour+59*time.Minute)
	d := s.eligibility(t, w.OwnerToken)
	if d.Decision != "allowed" || d.WindowExpiresAt == nil || !d.WindowExpiresAt.Equal(e.Clock.Now().Add(time.Minute).Truncate(time.Second)) {
		t.Fatalf("at 23h59m: %+v", d)
	}
	e.Clock.Advance(time.Minute + time.Second) // 24h00m01s after the customer's message
	d = s.eligibility(t, w.OwnerToken)
	if d.Decision != "template_required" {
		t.Fatalf("at 24h00m01s: %+v", d)
	}
	s.send(t, w.OwnerToken, copyBody(text)).ExpectProblem(t, http.StatusUnprocessableEntity, "template_required")

	// The customer writes again: the window reopens; our own messages never move it.
	ingest(t, e, w.APIKey, s.channel, map[string]any{"identifier": "+14155550111", "text": "still there?"})
	s.send(t, w.OwnerToken, copyBody(text)).Expect(t, http.StatusCreated)
	if d := s.eligibility(t, w.OwnerToken); d.Decision != "allowed" || !d.WindowExpiresAt.Equal(e.Clock.Now().Add(24*time.Hour)) {
		t.Fatalf("after the customer wrote again: %+v", d)
	}
}

func TestWeChatSixthMessage(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	s := newSendEnv(t, e, w, "wechat", nil, "openid-9", time.Hour)
	for i := 1; i <= 5; i++ {
		s.send(t, w.OwnerToken, copyBody(text)).Expect(t, http.StatusCreated)
	}
	d := s.eligibility(t, w.OwnerToken)
	if d.Decision != "blocked" || d.ReasonCode != "wechat_reply_limit" || d.Quota == nil || d.Quota.Used != 5 || d.Quota.Limit != 5 {
		t.Fatalf("after five: %+v", d)
	}
	s.send(t, w.OwnerToken, copyBody(text)).ExpectProblem(t, http.StatusUnprocessableEntity, "quota_exceeded")
	// A message from the customer resets the count.
	ingest(t, e, w.APIKey, s.channel, map[string]any{"identifier": "openid-9", "text": "ok"})
	s.send(t, w.OwnerToken, copyBody(text)).Expect(t, http.StatusCreated)
}

func TestViberQuota(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	s := newSendEnv(t, e, w, "viber", map[string]any{"monthly_initiated_limit": 3}, "viber-q", 30*time.Hour)
	for i := 0; i < 3; i++ {
		var out sendBody
		s.send(t, w.OwnerToken, copyBody(text)).Expect(t, http.StatusCreated).JSON(t, &out)
		if out.Decision.Quota == nil || out.Decision.Quota.Used != i || out.Message.Billable {
			t.Fatalf("send %d: decision %+v", i, out.Decision)
		}
	}
	d := s.eligibility(t, w.OwnerToken)
	if d.Decision != "blocked" || d.ReasonCode != "quota_exceeded" || d.Quota.Used != 3 {
		t.Fatalf("spent quota: %+v", d)
	}
	s.send(t, w.OwnerToken, copyBody(text)).ExpectProblem(t, http.StatusUnprocessableEntity, "quota_exceeded")

	// Accepting the commercial terms lifts the limit and makes the messages billable.
	e.Patch(t, "/v1/channels/"+s.channel, w.OwnerToken, map[string]any{"type": "viber", "rule_options": map[string]any{"monthly_initiated_limit": 3, "commercial_terms_accepted": true}}).Expect(t, http.StatusOK)
	var out sendBody
	s.send(t, w.OwnerToken, copyBody(text)).Expect(t, http.StatusCreated).JSON(t, &out)
	if !out.Message.Billable || !out.Decision.Billable {
		t.Fatalf("commercial terms: %+v", out.Decision)
	}
}

func TestViberQuotaUnderConcurrency(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "viber", "name": "v", "rule_options": map[string]any{"monthly_initiated_limit": 5}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	contacts := make([]string, 12)
	for i := range contacts {
		in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "vq-" + uuid.NewString()[:8], "text": "hi",
			"received_at": e.Clock.Now().Add(-48 * time.Hour).Format(time.RFC3339)})
		contacts[i] = in.Contact.ID
	}
	var wg sync.WaitGroup
	codes := make([]int, len(contacts))
	for i, c := range contacts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.Post(t, "/v1/contacts/"+c+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "hi", "channel_id": ch.ID}).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == http.StatusCreated {
			ok++
		} else if c != http.StatusUnprocessableEntity {
			t.Fatalf("unexpected status %d", c)
		}
	}
	if ok != 5 || count(t, e, `SELECT initiated FROM channel_usage`) != 5 {
		t.Fatalf("%d sends passed a quota of 5 (codes %v)", ok, codes)
	}
}

func TestHumanAgentNeedsAPerson(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	key := e.NewKey(t, w, "messages:send", "conversations:read")
	s := newSendEnv(t, e, w, "messenger", nil, "psid-ha", 30*time.Hour)

	// A key on its own is not a person: the tag is not for it.
	if d := s.eligibility(t, key); d.Decision != "tag_required" || len(d.AllowedTags) != 0 || d.ReasonCode != "human_agent_tag_person_only" {
		t.Fatalf("eligibility for a key: %+v", d)
	}
	s.send(t, key, copyBody(humanAgent)).ExpectProblem(t, http.StatusUnprocessableEntity, "tag_not_allowed")
	// Asking on behalf of the agent answers for a person.
	var el eligibilityBody
	e.Get(t, "/v1/contacts/"+s.contact+"/send-eligibility?as_user="+agent.ID, key).Expect(t, http.StatusOK).JSON(t, &el)
	if len(el.Channels) != 1 || len(el.Channels[0].AllowedTags) != 1 || el.Channels[0].AllowedTags[0] != "HUMAN_AGENT" {
		t.Fatalf("eligibility as the agent: %+v", el)
	}
	// The same send on behalf of the agent passes, and the agent takes the conversation.
	body := copyBody(humanAgent)
	body["on_behalf_of"] = agent.ID
	var out sendBody
	s.send(t, key, body).Expect(t, http.StatusCreated).JSON(t, &out)
	if out.Message.Sender.Kind != "user" || *out.Message.Sender.ID != agent.ID || out.Conversation.Assignee == nil || out.Conversation.Assignee.ID != agent.ID {
		t.Fatalf("on behalf of: %+v / %+v", out.Message.Sender, out.Conversation.Assignee)
	}
	// Agents may not ask for someone else; owners may.
	e.Get(t, "/v1/contacts/"+s.contact+"/send-eligibility?as_user="+w.OwnerID, agent.Token).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Get(t, "/v1/contacts/"+s.contact+"/send-eligibility?as_user="+agent.ID, w.OwnerToken).Expect(t, http.StatusOK)
	e.Get(t, "/v1/contacts/"+s.contact+"/send-eligibility?as_user="+uuid.NewString(), w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
}

// TestSendReopensAndAssigns: two agents send at once to a closed conversation; both messages
// are stored, it reopens once, and one of them holds it.
func TestSendReopensAndAssigns(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	a := e.NewUser(t, w, "agent")
	b := e.NewUser(t, w, "agent")
	s := newSendEnv(t, e, w, "telegram", nil, "4242", time.Hour)
	var conv conversationBody
	e.Get(t, "/v1/contacts/"+s.contact, w.OwnerToken).Expect(t, http.StatusOK)
	var c contactBody
	e.Get(t, "/v1/contacts/"+s.contact, w.OwnerToken).JSON(t, &c)
	e.Post(t, "/v1/conversations/"+c.Conversation.ID+"/close", w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK).JSON(t, &conv)

	var wg sync.WaitGroup
	results := make([]sendBody, 2)
	for i, u := range []*apitest.User{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.send(t, u.Token, copyBody(text)).Expect(t, http.StatusCreated).JSON(t, &results[i])
		}()
	}
	wg.Wait()
	var events struct {
		Data []eventBody `json:"data"`
	}
	e.Get(t, "/v1/conversations/"+c.Conversation.ID+"/events?limit=100", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &events)
	reopened, assigned := 0, 0
	for _, ev := range events.Data {
		switch ev.Type {
		case "reopened":
			reopened++
		case "assigned":
			assigned++
		}
	}
	var final conversationBody
	e.Get(t, "/v1/conversations/"+c.Conversation.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &final)
	if reopened != 1 || assigned != 1 || final.Status != "open" || final.Assignee == nil || (final.Assignee.ID != a.ID && final.Assignee.ID != b.ID) {
		t.Fatalf("reopened %d, assigned %d, final %+v", reopened, assigned, final)
	}
	if n := count(t, e, `SELECT count(*) FROM messages WHERE direction = 'outgoing'`); n != 2 {
		t.Fatalf("%d outgoing messages, want 2", n)
	}

	// An assigned open conversation keeps its assignee when someone else writes.
	holder := final.Assignee.ID
	other := a
	if holder == a.ID {
		other = b
	}
	var out sendBody
	s.send(t, other.Token, copyBody(text)).Expect(t, http.StatusCreated).JSON(t, &out)
	if out.Conversation.Assignee == nil || out.Conversation.Assignee.ID != holder {
		t.Fatalf("assignee changed to %+v", out.Conversation.Assignee)
	}
	// The send answers the conversation exactly as a read of it does, but for the reader's own
	// read state, which a send's stored answer (replayed to whoever retries) cannot carry: it is
	// compared with an all-scope key's read, which has none.
	r := s.send(t, other.Token, copyBody(text)).Expect(t, http.StatusCreated)
	var raw struct {
		Conversation json.RawMessage `json:"conversation"`
	}
	r.JSON(t, &raw)
	read := e.Get(t, "/v1/conversations/"+c.Conversation.ID, w.APIKey).Expect(t, http.StatusOK)
	if !bytes.Equal(bytes.TrimSpace(read.Body), raw.Conversation) {
		t.Fatalf("send answered\n%s\nbut a read gives\n%s", raw.Conversation, read.Body)
	}
	// GET /v1/messages/{id} shows the stored message.
	var m messageBody
	e.Get(t, "/v1/messages/"+out.Message.ID, other.Token).Expect(t, http.StatusOK).JSON(t, &m)
	if m.ID != out.Message.ID || m.Status != "queued" || m.Sender.Kind != "user" {
		t.Fatalf("message: %+v", m)
	}
}

func TestIdempotentSends(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	s := newSendEnv(t, e, w, "sms", nil, "+14155550177", time.Hour)
	key := "order-1234-followup"
	send := func(body map[string]any) *apitest.Response {
		body["channel_id"] = s.channel
		return e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + s.contact + "/messages", Token: w.APIKey,
			Body: body, Header: map[string]string{"Idempotency-Key": key}})
	}

	var wg sync.WaitGroup
	responses := make([]*apitest.Response, 20)
	for i := range responses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			responses[i] = send(copyBody(text))
		}()
	}
	wg.Wait()
	replayed := 0
	for _, r := range responses {
		r.Expect(t, http.StatusCreated)
		if string(r.Body) != string(responses[0].Body) {
			t.Fatalf("answers differ:\n%s\n%s", r.Body, responses[0].Body)
		}
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != 19 {
		t.Fatalf("%d replays, want 19", replayed)
	}
	if n := count(t, e, `SELECT count(*) FROM messages WHERE direction = 'outgoing'`); n != 1 {
		t.Fatalf("%d messages for one key", n)
	}
	// A later replay is byte for byte the first answer.
	r := send(copyBody(text)).Expect(t, http.StatusCreated)
	if string(r.Body) != string(responses[0].Body) || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s", r.Body)
	}
	// The same key for another request is refused.
	send(map[string]any{"type": "text", "text": "something else"}).ExpectProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	// Keys are per workspace: another workspace may use the same one.
	w2 := e.NewWorkspace(t, "Other")
	s2 := newSendEnv(t, e, w2, "sms", nil, "+14155550178", time.Hour)
	r2 := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + s2.contact + "/messages", Token: w2.APIKey,
		Body: map[string]any{"type": "text", "text": "hi", "channel_id": s2.channel}, Header: map[string]string{"Idempotency-Key": key}})
	r2.Expect(t, http.StatusCreated)
	if r2.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("a key of another workspace replayed")
	}
	// A refused send stores nothing under its key: a retry is checked again.
	var ig channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "instagram", "name": "ig"}).Expect(t, http.StatusCreated).JSON(t, &ig)
	in := ingest(t, e, w.APIKey, ig.ID, map[string]any{"identifier": "ig-1", "text": "hi", "received_at": e.Clock.Now().Add(-30 * time.Hour).Format(time.RFC3339)})
	refuse := func() *apitest.Response {
		return e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + in.Contact.ID + "/messages", Token: w.APIKey,
			Body: map[string]any{"type": "text", "text": "hi", "channel_id": ig.ID}, Header: map[string]string{"Idempotency-Key": "ig-key"}})
	}
	refuse().ExpectProblem(t, http.StatusUnprocessableEntity, "messaging_window_closed")
	ingest(t, e, w.APIKey, ig.ID, map[string]any{"identifier": "ig-1", "text": "back"})
	refuse().Expect(t, http.StatusCreated)
}

func TestSendDefaultsAndErrors(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	tg := newSendEnv(t, e, w, "telegram", nil, "9001", 5*time.Hour)
	// The same contact also wrote on SMS, more recently: that is the default channel.
	var sms channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "sms", "name": "sms"}).Expect(t, http.StatusCreated).JSON(t, &sms)
	e.Post(t, "/v1/contacts/"+tg.contact+"/channels", w.OwnerToken, map[string]any{"channel_id": sms.ID, "identifier": "+14155550155"}).Expect(t, http.StatusCreated)
	ingest(t, e, w.APIKey, sms.ID, map[string]any{"identifier": "+14155550155", "text": "sms", "received_at": e.Clock.Now().Add(-time.Hour).Format(time.RFC3339)})

	var el eligibilityBody
	e.Get(t, "/v1/contacts/"+tg.contact+"/send-eligibility", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &el)
	if el.DefaultChannelID == nil || *el.DefaultChannelID != sms.ID || len(el.Channels) != 2 {
		t.Fatalf("eligibility: %+v", el)
	}
	// A user may name themselves in on_behalf_of (nothing changes); naming another user is
	// what only an API key may do, refused before anything is written.
	other := e.NewUser(t, w, "agent")
	e.Post(t, "/v1/contacts/"+tg.contact+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "hi", "on_behalf_of": other.ID}).
		ExpectProblem(t, http.StatusForbidden, "forbidden")
	var out sendBody
	e.Post(t, "/v1/contacts/"+tg.contact+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "hi", "on_behalf_of": w.OwnerID}).
		Expect(t, http.StatusCreated).JSON(t, &out)
	if out.Message.ChannelID != sms.ID {
		t.Fatalf("default channel: sent on %s, want %s", out.Message.ChannelID, sms.ID)
	}
	if n := count(t, e, `SELECT count(*) FROM messages WHERE direction = 'outgoing'`); n != 1 {
		t.Fatalf("%d outgoing messages, want the one the owner sent", n)
	}

	lonely := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "No", "last_name": "Channels"})
	var none eligibilityBody
	e.Get(t, "/v1/contacts/"+lonely+"/send-eligibility", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &none)
	if none.DefaultChannelID != nil || len(none.Channels) != 0 {
		t.Fatalf("contact without identities: %+v", none)
	}
	post := func(contact string, body map[string]any) *apitest.Response {
		return e.Post(t, "/v1/contacts/"+contact+"/messages", w.OwnerToken, body)
	}
	post(lonely, map[string]any{"type": "text", "text": "hi"}).ExpectProblem(t, http.StatusUnprocessableEntity, "no_channel_identity")
	post(lonely, map[string]any{"type": "text", "text": "hi", "channel_id": sms.ID}).ExpectProblem(t, http.StatusUnprocessableEntity, "no_channel_identity")

	// Archived channels take no sends and drop out of eligibility.
	e.Delete(t, "/v1/channels/"+tg.channel, w.OwnerToken).Expect(t, http.StatusNoContent)
	post(tg.contact, map[string]any{"type": "text", "text": "hi", "channel_id": tg.channel}).ExpectProblem(t, http.StatusConflict, "channel_archived")

	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"unknown type", map[string]any{"type": "sticker"}, 422, "validation_failed", "type"},
		{"text without text", map[string]any{"type": "text", "text": "  "}, 422, "validation_failed", "text"},
		{"template without template", map[string]any{"type": "template"}, 422, "validation_failed", "template"},
		{"template without name", map[string]any{"type": "template", "template": map[string]any{"language": "en_US"}}, 422, "validation_failed", "template.name"},
		{"unknown template", map[string]any{"type": "template", "template": map[string]any{"name": "nope", "language": "en_US"}}, 422, "validation_failed", "template.name"},
		{"attachment without url", map[string]any{"type": "attachment", "attachments": []any{map[string]any{"mime_type": "image/png"}}}, 422, "validation_failed", "attachments[0].url"},
		{"text and template", map[string]any{"type": "text", "text": "x", "template": map[string]any{"name": "a", "language": "en"}}, 422, "validation_failed", "type"},
		{"channel of nowhere", map[string]any{"type": "text", "text": "x", "channel_id": uuid.NewString()}, 422, "validation_failed", "channel_id"},
		{"channel id not an id", map[string]any{"type": "text", "text": "x", "channel_id": "sms"}, 422, "validation_failed", "channel_id"},
		{"variables not strings", map[string]any{"type": "template", "template": map[string]any{"name": "a", "language": "en", "variables": []int{1}}}, 400, "invalid_type", "template.variables"},
		{"unknown field", map[string]any{"type": "text", "text": "x", "priority": "high"}, 400, "unknown_field", "priority"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tg.contact, tc.body.(map[string]any)).ExpectProblem(t, tc.status, tc.code)
			if !problemFields(t, r)[tc.field] {
				t.Errorf("problem does not name %s: %s", tc.field, r.Body)
			}
		})
	}
	bad := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + tg.contact + "/messages", Token: w.OwnerToken,
		Body: map[string]any{"type": "text", "text": "x"}, Header: map[string]string{"Idempotency-Key": "has space"}})
	bad.ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	post("not-an-id", map[string]any{"type": "text", "text": "x"}).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
	post(uuid.NewString(), map[string]any{"type": "text", "text": "x"}).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
	e.Get(t, "/v1/messages/"+uuid.NewString(), w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "message_not_found")
	e.Get(t, "/v1/contacts/"+uuid.NewString()+"/send-eligibility", w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
	e.Get(t, "/v1/contacts/"+tg.contact+"/send-eligibility?as_user=me", w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")

	// Scopes: sending needs messages:send.
	readOnly := e.NewKey(t, w, "contacts:read", "conversations:read")
	e.Post(t, "/v1/contacts/"+tg.contact+"/messages", readOnly, map[string]any{"type": "text", "text": "x"}).
		ExpectProblem(t, http.StatusForbidden, "forbidden")
}

func TestSendTenancy(t *testing.T) {
	e := apitest.New(t)
	a := e.NewWorkspace(t, "A")
	b := e.NewWorkspace(t, "B")
	s := newSendEnv(t, e, a, "telegram", nil, "31337", time.Hour)
	var out sendBody
	s.send(t, a.OwnerToken, copyBody(text)).Expect(t, http.StatusCreated).JSON(t, &out)
	for _, tok := range []string{b.OwnerToken, b.APIKey} {
		e.Post(t, "/v1/contacts/"+s.contact+"/messages", tok, map[string]any{"type": "text", "text": "x"}).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
		e.Get(t, "/v1/contacts/"+s.contact+"/send-eligibility", tok).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
		e.Get(t, "/v1/messages/"+out.Message.ID, tok).ExpectProblem(t, http.StatusNotFound, "message_not_found")
	}
	// B's contact cannot be reached through A's channel either.
	bc := e.NewContact(t, b.OwnerToken, map[string]any{"first_name": "B"})
	e.Post(t, "/v1/contacts/"+bc+"/messages", b.OwnerToken, map[string]any{"type": "text", "text": "x", "channel_id": s.channel}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
}
