package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

type actorBody struct {
	Kind string  `json:"kind"`
	ID   *string `json:"id"`
}

type channelBody struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Name        string         `json:"name"`
	Provider    string         `json:"provider"`
	Config      map[string]any `json:"config"`
	SecretsSet  []string       `json:"secrets_set"`
	RuleOptions map[string]any `json:"rule_options"`
	ArchivedAt  *time.Time     `json:"archived_at"`
}

type identityBody struct {
	ID            string     `json:"id"`
	ChannelID     string     `json:"channel_id"`
	ChannelType   string     `json:"channel_type"`
	Identifier    string     `json:"identifier"`
	LastInboundAt *time.Time `json:"last_inbound_at"`
}

type messageBody struct {
	ID             string           `json:"id"`
	ConversationID string           `json:"conversation_id"`
	ContactID      string           `json:"contact_id"`
	ChannelID      string           `json:"channel_id"`
	IdentityID     *string          `json:"identity_id"`
	Direction      string           `json:"direction"`
	Type           string           `json:"type"`
	Text           string           `json:"text"`
	Sender         actorBody        `json:"sender"`
	Status         string           `json:"status"`
	ExternalID     *string          `json:"external_id"`
	CreatedAt      time.Time        `json:"created_at"`
	Attachments    []attachmentBody `json:"attachments"`
}

type attachmentBody struct {
	MediaID       *string `json:"media_id"`
	URL           *string `json:"url"`
	MimeType      *string `json:"mime_type"`
	Filename      *string `json:"filename"`
	Size          *int64  `json:"size"`
	Status        string  `json:"status"`
	FailureReason *string `json:"failure_reason"`
}

type conversationBody struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Contact struct {
		ID        string  `json:"id"`
		FirstName string  `json:"first_name"`
		LastName  string  `json:"last_name"`
		Email     *string `json:"email"`
		Phone     *string `json:"phone"`
	} `json:"contact"`
	Assignee *struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"assignee"`
	LastMessage *struct {
		ID        string    `json:"id"`
		ChannelID string    `json:"channel_id"`
		Direction string    `json:"direction"`
		Text      string    `json:"text"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"last_message"`
	ClosingNote *struct {
		Category *string   `json:"category"`
		Summary  *string   `json:"summary"`
		ClosedAt time.Time `json:"closed_at"`
		ClosedBy actorBody `json:"closed_by"`
	} `json:"closing_note"`
	ClosedAt  *time.Time `json:"closed_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

type conversationPage struct {
	Data       []conversationBody `json:"data"`
	NextCursor *string            `json:"next_cursor"`
}

type eventBody struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Actor      actorBody `json:"actor"`
	AssigneeID *string   `json:"assignee_id"`
	Category   *string   `json:"category"`
	Summary    *string   `json:"summary"`
	At         time.Time `json:"at"`
}

type inboundBody struct {
	Message      messageBody      `json:"message"`
	Contact      contactBody      `json:"contact"`
	Conversation conversationBody `json:"conversation"`
}

// newChannel connects a sandbox channel of the type and returns its id.
func newChannel(t *testing.T, e *apitest.Env, token, typ string) string {
	t.Helper()
	var ch channelBody
	e.Post(t, "/v1/channels", token, map[string]any{"type": typ, "name": typ + " channel"}).Expect(t, http.StatusCreated).JSON(t, &ch)
	return ch.ID
}

// ingest posts an inbound message and expects 201.
func ingest(t *testing.T, e *apitest.Env, token, channel string, body map[string]any) inboundBody {
	t.Helper()
	var out inboundBody
	e.Post(t, "/v1/channels/"+channel+"/inbound", token, body).Expect(t, http.StatusCreated).JSON(t, &out)
	return out
}

// inbox lists one page of the inbox with the query.
func inbox(t *testing.T, e *apitest.Env, token string, q url.Values) conversationPage {
	t.Helper()
	var p conversationPage
	e.Get(t, "/v1/conversations?"+q.Encode(), token).Expect(t, http.StatusOK).JSON(t, &p)
	return p
}

// inboxPages lists every page of the inbox with the query (q's cursor is set on the way) and
// answers their rows in order.
func inboxPages(t *testing.T, e *apitest.Env, token string, q url.Values) []conversationBody {
	t.Helper()
	var rows []conversationBody
	for {
		p := inbox(t, e, token, q)
		rows = append(rows, p.Data...)
		if p.NextCursor == nil {
			return rows
		}
		q.Set("cursor", *p.NextCursor)
	}
}

func inboxIDs(t *testing.T, e *apitest.Env, token string, q url.Values) []string {
	t.Helper()
	p := inbox(t, e, token, q)
	ids := make([]string, len(p.Data))
	for i, c := range p.Data {
		ids[i] = c.ID
	}
	return ids
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func events(t *testing.T, e *apitest.Env, token, conv string) []eventBody {
	t.Helper()
	var p struct {
		Data []eventBody `json:"data"`
	}
	e.Get(t, "/v1/conversations/"+conv+"/events?limit=100", token).Expect(t, http.StatusOK).JSON(t, &p)
	return p.Data
}

func eventTypes(es []eventBody) []string {
	out := make([]string, len(es))
	for i, ev := range es {
		out[i] = ev.Type
	}
	return out
}

// count runs a counting query against the test database, after numbering the events that
// committed (a query of the events table sees them all, as an API read would).
func count(t *testing.T, e *apitest.Env, q string, args ...any) int {
	t.Helper()
	if _, err := e.Store.SequenceEvents(context.Background()); err != nil {
		t.Fatalf("number queued events: %v", err)
	}
	var n int
	if err := e.Store.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func mustQuery(s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		panic(err)
	}
	return v
}
