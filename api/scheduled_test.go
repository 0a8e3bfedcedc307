package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// scheduledBody is a ScheduledMessage as the tests read it.
type scheduledBody struct {
	ID              string       `json:"id"`
	Status          string       `json:"status"`
	SendAt          time.Time    `json:"send_at"`
	ContactID       string       `json:"contact_id"`
	ChannelID       string       `json:"channel_id"`
	PreviewDecision decisionBody `json:"preview_decision"`
	Decision        *struct {
		Decision   string `json:"decision"`
		ReasonCode string `json:"reason_code"`
	} `json:"decision"`
	Type      string    `json:"type"`
	Text      string    `json:"text"`
	MessageID *string   `json:"message_id"`
	Reason    *string   `json:"reason"`
	CreatedBy actorBody `json:"created_by"`
}

// graphOK is the fake Graph API's answer to every message.
const graphOK = `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.SCHED1"}]}`

// scheduledSetup is a WhatsApp Cloud channel on a fake Graph API with an approved template
// order_update ("Hi {{1}}"), and a customer whose last message came at lastInbound.
func scheduledSetup(t *testing.T, e *apitest.Env, w *apitest.Workspace, lastInbound time.Time) (graph *pt.Server, channel, contact, conv string) {
	t.Helper()
	graph = pt.NewServer(t, pt.Reply{Body: graphOK})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "106540352242922", "access_token": "EAAG-access-token", "app_secret": "app-secret",
			"api_base": graph.URL + "/v25.0"}}).Expect(t, http.StatusCreated).JSON(t, &ch)
	addTemplate(t, e, w.OwnerToken, ch.ID, "order_update", "approved", "Hi {{1}}, your order is ready.")
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "+16505551234", "text": "Where is my order?",
		"received_at": lastInbound.UTC().Format(time.RFC3339)})
	return graph, ch.ID, in.Contact.ID, in.Conversation.ID
}

func schedule(t *testing.T, e *apitest.Env, token, contact string, body map[string]any) scheduledBody {
	t.Helper()
	var sc scheduledBody
	e.Post(t, "/v1/contacts/"+contact+"/messages", token, body).Expect(t, http.StatusAccepted).JSON(t, &sc)
	if sc.Status != "scheduled" || sc.MessageID != nil || sc.Decision != nil {
		t.Fatalf("just scheduled: %+v", sc)
	}
	return sc
}

// waitScheduled polls the scheduled message until it leaves status scheduled.
func waitScheduled(t *testing.T, e *apitest.Env, token, id string) scheduledBody {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var sc scheduledBody
		e.Get(t, "/v1/scheduled-messages/"+id, token).Expect(t, http.StatusOK).JSON(t, &sc)
		if sc.Status != "scheduled" {
			return sc
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduled message %s still scheduled (send_at %s)", id, sc.SendAt)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScheduledFallbackAfterWindow is issue 16's acceptance 2: a text scheduled for after the
// WhatsApp window closes goes out as the fallback template at send_at (the fake Graph API
// receives it), the closed conversation reopens assigned to the user who scheduled it; without
// a fallback it is blocked with the decision and the event.
func TestScheduledFallbackAfterWindow(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	now := e.Clock.Now()
	// The window closes 1 s from now; the send is due 2 s from now.
	graph, _, contact, conv := scheduledSetup(t, e, w, now.Add(-24*time.Hour+time.Second))
	e.Post(t, "/v1/conversations/"+conv+"/close", w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
	sendAt := now.Add(2 * time.Second).Format(time.RFC3339)

	sc := schedule(t, e, w.OwnerToken, contact, map[string]any{"type": "text", "text": "Your order ships today", "send_at": sendAt,
		"fallback_template": map[string]any{"name": "order_update", "language": "en_US", "variables": []string{"Maria"}}})
	pt.Equal(t, "preview decision", sc.PreviewDecision.Decision, "template_required")
	pt.Equal(t, "created by", *sc.CreatedBy.ID, w.OwnerID)

	blocked := schedule(t, e, w.OwnerToken, contact, map[string]any{"type": "text", "text": "No fallback", "send_at": sendAt})

	got := waitScheduled(t, e, w.OwnerToken, sc.ID)
	if got.Status != "sent" || got.MessageID == nil || got.Decision == nil || got.Decision.Decision != "template_required" {
		t.Fatalf("fired with a fallback: %+v", got)
	}
	m := waitMessage(t, e, w.OwnerToken, *got.MessageID, "sent")
	pt.Equal(t, "provider message id", *m.ProviderMessageID, "wamid.SCHED1")
	var tmpl bool
	for _, r := range graph.Requests() {
		tmpl = tmpl || bytes.Contains(r.Body, []byte(`"order_update"`))
	}
	if !tmpl {
		t.Fatalf("the fake Graph API got no template message: %d requests", len(graph.Requests()))
	}
	var c conversationBody
	e.Get(t, "/v1/conversations/"+conv, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &c)
	if c.Status != "open" || c.Assignee == nil || c.Assignee.ID != w.OwnerID {
		t.Fatalf("conversation after the fire: %+v", c)
	}

	b := waitScheduled(t, e, w.OwnerToken, blocked.ID)
	if b.Status != "blocked" || b.MessageID != nil || b.Decision == nil || b.Decision.Decision != "template_required" ||
		b.Reason == nil || *b.Reason != "template_required" {
		t.Fatalf("fired without a fallback: %+v", b)
	}
	var evs struct {
		Data []struct {
			Type string `json:"type"`
			Data struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"data"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?types=scheduled_message.blocked,scheduled_message.sent", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &evs)
	seen := map[string]string{}
	for _, ev := range evs.Data {
		seen[ev.Data.ID] = ev.Type + "/" + ev.Data.Status
	}
	pt.Equal(t, "blocked event", seen[blocked.ID], "scheduled_message.blocked/blocked")
	pt.Equal(t, "sent event", seen[sc.ID], "scheduled_message.sent/sent")
}

// TestScheduledCancelledByReply: with cancel_if_customer_replied, a customer's message
// ingested before send_at cancels the send; nothing reaches the provider.
func TestScheduledCancelledByReply(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	now := e.Clock.Now()
	graph, channel, contact, _ := scheduledSetup(t, e, w, now.Add(-time.Hour))
	sc := schedule(t, e, w.OwnerToken, contact, map[string]any{"type": "text", "text": "Any news?",
		"send_at": now.Add(2 * time.Second).Format(time.RFC3339), "cancel_if_customer_replied": true})
	// received_at long ago: what counts is when the reply is ingested.
	ingest(t, e, w.APIKey, channel, map[string]any{"identifier": "+16505551234", "text": "Never mind, it came",
		"received_at": now.Add(-30 * time.Minute).Format(time.RFC3339)})
	var got scheduledBody
	e.Get(t, "/v1/scheduled-messages/"+sc.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "cancelled" || got.Reason == nil || *got.Reason != "customer_replied" {
		t.Fatalf("after the reply: %+v", got)
	}
	e.Delete(t, "/v1/scheduled-messages/"+sc.ID, w.OwnerToken).ExpectProblem(t, http.StatusConflict, "scheduled_message_not_cancellable")
	time.Sleep(time.Until(sc.SendAt) + time.Second)
	if n := len(graph.Requests()); n != 0 {
		t.Fatalf("a cancelled send reached the provider: %d requests", n)
	}
	e.Get(t, "/v1/scheduled-messages/"+sc.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	pt.Equal(t, "status", got.Status, "cancelled")
}

// TestScheduledSentWhenAllowed: allowed at send_at, the text is sent as an immediate send
// would be, with message_id; cancelling it then is 409. DELETE before the fire cancels.
func TestScheduledSentWhenAllowed(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	now := e.Clock.Now()
	_, _, contact, _ := scheduledSetup(t, e, w, now.Add(-time.Hour))
	sendAt := now.Add(2 * time.Second).Format(time.RFC3339)
	sc := schedule(t, e, w.APIKey, contact, map[string]any{"type": "text", "text": "See you at 10", "send_at": sendAt})
	pt.Equal(t, "preview", sc.PreviewDecision.Decision, "allowed")
	drop := schedule(t, e, w.OwnerToken, contact, map[string]any{"type": "text", "text": "Dropped", "send_at": sendAt})
	var cancelled scheduledBody
	e.Delete(t, "/v1/scheduled-messages/"+drop.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &cancelled)
	if cancelled.Status != "cancelled" || cancelled.Reason == nil || *cancelled.Reason != "cancelled" {
		t.Fatalf("cancelled: %+v", cancelled)
	}

	got := waitScheduled(t, e, w.OwnerToken, sc.ID)
	if got.Status != "sent" || got.MessageID == nil || got.Decision == nil || got.Decision.Decision != "allowed" {
		t.Fatalf("fired: %+v", got)
	}
	var m messageBody
	e.Get(t, "/v1/messages/"+*got.MessageID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &m)
	pt.Equal(t, "text", m.Text, "See you at 10")
	e.Delete(t, "/v1/scheduled-messages/"+sc.ID, w.OwnerToken).ExpectProblem(t, http.StatusConflict, "scheduled_message_not_cancellable")
	e.Get(t, "/v1/scheduled-messages/"+drop.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &cancelled)
	pt.Equal(t, "cancelled stays", cancelled.Status, "cancelled")
}

// TestScheduleBadInput: what scheduling refuses, each 422 naming the field.
func TestScheduleBadInput(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	now := e.Clock.Now()
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA"}).Expect(t, http.StatusCreated).JSON(t, &ch)
	other := newChannel(t, e, w.OwnerToken, "whatsapp")
	addTemplate(t, e, w.OwnerToken, ch.ID, "order_update", "approved", "Hi {{1}}")
	addTemplate(t, e, w.OwnerToken, ch.ID, "promo", "pending", "Sale!")
	addTemplate(t, e, w.OwnerToken, other, "elsewhere", "approved", "Hello")
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "+16505551234", "text": "hi"})
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	fallback := func(name string) map[string]any {
		return map[string]any{"name": name, "language": "en_US", "variables": []string{"Maria"}}
	}
	for _, tc := range []struct {
		name        string
		body        map[string]any
		field, code string
	}{
		{"send_at in the past", map[string]any{"type": "text", "text": "x", "send_at": at(-time.Minute)}, "send_at", "validation_failed"},
		{"send_at now", map[string]any{"type": "text", "text": "x", "send_at": at(0)}, "send_at", "validation_failed"},
		{"send_at beyond 30 days", map[string]any{"type": "text", "text": "x", "send_at": at(30*24*time.Hour + time.Minute)}, "send_at", "validation_failed"},
		{"fallback not approved", map[string]any{"type": "text", "text": "x", "send_at": at(time.Hour), "fallback_template": fallback("promo")}, "fallback_template.name", "validation_failed"},
		{"fallback of another channel", map[string]any{"type": "text", "text": "x", "send_at": at(time.Hour), "fallback_template": fallback("elsewhere")}, "fallback_template.name", "validation_failed"},
		{"blank text", map[string]any{"type": "text", "text": "  ", "send_at": at(time.Hour)}, "text", "validation_failed"},
		// The variables a template takes: refused with the code an immediate send's would be.
		{"fallback variables", map[string]any{"type": "text", "text": "x", "send_at": at(time.Hour),
			"fallback_template": map[string]any{"name": "order_update", "language": "en_US", "variables": []string{"a", "b"}}},
			"fallback_template.variables", "template_variables_invalid"},
		{"template variables", map[string]any{"type": "template", "send_at": at(time.Hour),
			"template": map[string]any{"name": "order_update", "language": "en_US"}}, "template.variables", "template_variables_invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p struct {
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, tc.body).
				ExpectProblem(t, http.StatusUnprocessableEntity, tc.code).JSON(t, &p)
			if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Fatalf("errors %+v, want %s", p.Errors, tc.field)
			}
		})
	}
	// 30 days exactly is allowed, and a scheduled send is listed.
	schedule(t, e, w.OwnerToken, in.Contact.ID, map[string]any{"type": "text", "text": "x", "send_at": at(30 * 24 * time.Hour)})
	if n := count(t, e, `SELECT count(*) FROM scheduled_messages WHERE workspace_id = $1`, w.ID); n != 1 {
		t.Fatalf("%d scheduled messages stored, want 1", n)
	}
}

// TestScheduleIdempotencyAndList: an Idempotency-Key replays the 202 byte for byte and
// schedules once; the list filters by contact and status and pages by id.
func TestScheduleIdempotencyAndList(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	now := e.Clock.Now()
	channel := newChannel(t, e, w.OwnerToken, "whatsapp")
	a := ingest(t, e, w.APIKey, channel, map[string]any{"identifier": "+16505551234", "text": "hi"}).Contact.ID
	b := ingest(t, e, w.APIKey, channel, map[string]any{"identifier": "+16505551235", "text": "hi"}).Contact.ID
	body := map[string]any{"type": "text", "text": "Later", "send_at": now.Add(time.Hour).Format(time.RFC3339)}
	key := map[string]string{"Idempotency-Key": "sched-1"}
	first := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + a + "/messages", Token: w.OwnerToken, Body: body, Header: key}).
		Expect(t, http.StatusAccepted)
	again := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + a + "/messages", Token: w.OwnerToken, Body: body, Header: key}).
		Expect(t, http.StatusAccepted)
	if !bytes.Equal(first.Body, again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.Body, again.Body)
	}
	var ids []string
	var sc scheduledBody
	first.JSON(t, &sc)
	ids = append(ids, sc.ID)
	for range 2 {
		ids = append(ids, schedule(t, e, w.OwnerToken, a, body).ID)
	}
	schedule(t, e, w.OwnerToken, b, body)
	e.Delete(t, "/v1/scheduled-messages/"+ids[1], w.OwnerToken).Expect(t, http.StatusOK)

	type list struct {
		Data       []scheduledBody `json:"data"`
		NextCursor *string         `json:"next_cursor"`
	}
	var got []string
	path := "/v1/scheduled-messages?limit=2&contact_id=" + a
	for {
		var l list
		e.Get(t, path, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &l)
		for _, s := range l.Data {
			got = append(got, s.ID)
		}
		if l.NextCursor == nil {
			break
		}
		path = "/v1/scheduled-messages?limit=2&contact_id=" + a + "&cursor=" + *l.NextCursor
	}
	pt.Equal(t, "contact's scheduled messages", strings.Join(got, ","), strings.Join(ids, ","))
	var l list
	e.Get(t, "/v1/scheduled-messages?status=cancelled", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &l)
	if len(l.Data) != 1 || l.Data[0].ID != ids[1] {
		t.Fatalf("status=cancelled: %+v", l.Data)
	}
	e.Get(t, "/v1/scheduled-messages?status=scheduled", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &l)
	pt.Equal(t, "scheduled", len(l.Data), 3)
	e.Get(t, "/v1/scheduled-messages?status=later", w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
}

// TestScheduledFailsWithoutChannel: a send that cannot be attempted at send_at (its channel
// archived since) is failed with the code, and event scheduled_message.failed.
func TestScheduledFailsWithoutChannel(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	channel := newChannel(t, e, w.OwnerToken, "whatsapp")
	contact := ingest(t, e, w.APIKey, channel, map[string]any{"identifier": "+16505551234", "text": "hi"}).Contact.ID
	sc := schedule(t, e, w.OwnerToken, contact, map[string]any{"type": "text", "text": "Later",
		"send_at": e.Clock.Now().Add(time.Second).Format(time.RFC3339)})
	// The channel has a message, so DELETE archives it.
	e.Delete(t, "/v1/channels/"+channel, w.OwnerToken).Expect(t, http.StatusNoContent)
	got := waitScheduled(t, e, w.OwnerToken, sc.ID)
	if got.Status != "failed" || got.Reason == nil || *got.Reason != "channel_archived" || got.MessageID != nil {
		t.Fatalf("fired on an archived channel: %+v", got)
	}
	var evs struct {
		Data []struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?types=scheduled_message.failed", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &evs)
	pt.Equal(t, "failed events", len(evs.Data), 1)
}

// TestSendFallbackNow: an immediate send with fallback_template that the rules refuse (the
// WhatsApp window closed) sends the template instead; cancel_if_customer_replied means nothing
// without send_at and is ignored.
func TestSendFallbackNow(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA"}).Expect(t, http.StatusCreated).JSON(t, &ch)
	addTemplate(t, e, w.OwnerToken, ch.ID, "order_update", "approved", "Hi {{1}}")
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "+16505551234", "text": "hi",
		"received_at": e.Clock.Now().Add(-25 * time.Hour).Format(time.RFC3339)})
	var s sendBody
	e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "Following up",
		"cancel_if_customer_replied": true,
		"fallback_template":          map[string]any{"name": "order_update", "language": "en_US", "variables": []string{"Maria"}}}).
		Expect(t, http.StatusCreated).JSON(t, &s)
	if s.Message.Template == nil || s.Message.Template.Name != "order_update" || s.Message.Text != "Hi Maria" {
		t.Fatalf("sent: %+v", s.Message)
	}
	e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "No fallback"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "template_required")
}
