package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
)

type labelBody struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Color     string    `json:"color"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type labelPage struct {
	Data       []labelBody `json:"data"`
	NextCursor *string     `json:"next_cursor"`
}

// labeledBody is the part of a conversation these tests read.
type labeledBody struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`
	Labels    []struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Color string `json:"color"`
	} `json:"labels"`
}

// names are the conversation's label names, in the order it carries them.
func (c labeledBody) names() []string {
	out := []string{}
	for _, l := range c.Labels {
		out = append(out, l.Name)
	}
	return out
}

// newLabel creates a label and expects 201.
func newLabel(t *testing.T, e *apitest.Env, token, name, color string) labelBody {
	t.Helper()
	var l labelBody
	e.Post(t, "/v1/labels", token, map[string]any{"name": name, "color": color}).Expect(t, http.StatusCreated).JSON(t, &l)
	return l
}

// setLabels replaces the conversation's labels.
func setLabels(t *testing.T, e *apitest.Env, token, conv string, ids ...string) *apitest.Response {
	t.Helper()
	if ids == nil {
		ids = []string{}
	}
	return e.Put(t, "/v1/conversations/"+conv+"/labels", token, map[string]any{"label_ids": ids})
}

// labeled reads the conversation.
func labeled(t *testing.T, e *apitest.Env, token, conv string) labeledBody {
	t.Helper()
	var c labeledBody
	e.Get(t, "/v1/conversations/"+conv, token).Expect(t, http.StatusOK).JSON(t, &c)
	return c
}

// allLabels pages through the label list, limit at a time.
func allLabels(t *testing.T, e *apitest.Env, token string, limit int) []labelBody {
	t.Helper()
	var out []labelBody
	path := fmt.Sprintf("/v1/labels?limit=%d", limit)
	for {
		var p labelPage
		e.Get(t, path, token).Expect(t, http.StatusOK).JSON(t, &p)
		out = append(out, p.Data...)
		if p.NextCursor == nil {
			return out
		}
		path = fmt.Sprintf("/v1/labels?limit=%d&cursor=%s", limit, url.QueryEscape(*p.NextCursor))
	}
}

func labelNames(ls []labelBody) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

// labelsChanged are the conversation.labels_changed events of the conversation, oldest first,
// each with the label names its data carries.
func labelsChanged(t *testing.T, e *apitest.Env, token, conv string) [][]string {
	t.Helper()
	var p struct {
		Data []struct {
			Type string      `json:"type"`
			Data labeledBody `json:"data"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?limit=100&types=conversation.labels_changed&conversation_id="+conv, token).Expect(t, http.StatusOK).JSON(t, &p)
	out := [][]string{}
	for _, ev := range p.Data {
		if ev.Type != "conversation.labels_changed" || ev.Data.ID != conv {
			t.Fatalf("event %s of %s among conversation.labels_changed of %s", ev.Type, ev.Data.ID, conv)
		}
		out = append(out, ev.Data.names())
	}
	return out
}

func TestLabelCRUD(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")

	refund := newLabel(t, e, w.OwnerToken, "  Refund ", "#E5484D")
	if refund.Name != "Refund" || refund.Color != "#e5484d" || !refund.CreatedAt.Equal(e.Clock.Now()) || !refund.UpdatedAt.Equal(refund.CreatedAt) {
		t.Fatalf("created: %+v", refund)
	}
	newLabel(t, e, w.APIKey, "vip", "#ffb224") // an admin key may too
	newLabel(t, e, w.OwnerToken, "Billing", "#1f93ff")
	newLabel(t, e, w.OwnerToken, "ärger", "#000000")
	newLabel(t, e, w.OwnerToken, "Zebra", "#ffffff")

	// By name without regard to case, the same on every page size.
	want := []string{"Billing", "Refund", "vip", "Zebra", "ärger"}
	for _, limit := range []int{1, 2, 100} {
		if got := labelNames(allLabels(t, e, w.OwnerToken, limit)); !slices.Equal(got, want) {
			t.Fatalf("limit %d: %q, want %q", limit, got, want)
		}
	}
	e.Get(t, "/v1/labels?cursor=not-a-cursor", w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")

	// PATCH changes what it names; the rest stays.
	e.Clock.Advance(time.Minute)
	var upd labelBody
	e.Patch(t, "/v1/labels/"+refund.ID, w.OwnerToken, map[string]any{"color": "#00FF00"}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Name != "Refund" || upd.Color != "#00ff00" || !upd.UpdatedAt.Equal(e.Clock.Now()) || !upd.CreatedAt.Equal(refund.CreatedAt) {
		t.Fatalf("recoloured: %+v", upd)
	}
	e.Patch(t, "/v1/labels/"+refund.ID, w.OwnerToken, map[string]any{"name": "Refunds "}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Name != "Refunds" || upd.Color != "#00ff00" {
		t.Fatalf("renamed: %+v", upd)
	}
	// A refused patch changes nothing.
	e.Patch(t, "/v1/labels/"+refund.ID, w.OwnerToken, map[string]any{"name": "Other", "color": "green"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := labelNames(allLabels(t, e, w.OwnerToken, 100)); !slices.Contains(got, "Refunds") || slices.Contains(got, "Other") {
		t.Fatalf("after a refused patch: %q", got)
	}

	e.Delete(t, "/v1/labels/"+refund.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Patch(t, "/v1/labels/"+refund.ID, w.OwnerToken, map[string]any{"name": "Back"}).ExpectProblem(t, http.StatusNotFound, "label_not_found")
	e.Delete(t, "/v1/labels/"+refund.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "label_not_found")
	e.Delete(t, "/v1/labels/not-an-id", w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "label_not_found")
	if got := labelNames(allLabels(t, e, w.OwnerToken, 100)); !slices.Equal(got, []string{"Billing", "vip", "Zebra", "ärger"}) {
		t.Fatalf("after delete: %q", got)
	}
	// The name is free again.
	newLabel(t, e, w.OwnerToken, "refund", "#e5484d")
}

func TestLabelNameUniqueWithoutCase(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	refund := newLabel(t, e, w.OwnerToken, "Refund", "#e5484d")
	vip := newLabel(t, e, w.OwnerToken, "VIP", "#ffb224")

	for _, name := range []string{"Refund", "refund", " REFUND "} {
		m := e.Post(t, "/v1/labels", w.OwnerToken, map[string]any{"name": name, "color": "#000000"}).
			ExpectProblem(t, http.StatusConflict, "label_exists").Map(t)
		if m["existing_id"] != refund.ID {
			t.Fatalf("create %q: existing_id %v, want %s", name, m["existing_id"], refund.ID)
		}
	}
	m := e.Patch(t, "/v1/labels/"+vip.ID, w.OwnerToken, map[string]any{"name": "rEfUnD"}).
		ExpectProblem(t, http.StatusConflict, "label_exists").Map(t)
	if m["existing_id"] != refund.ID {
		t.Fatalf("rename: existing_id %v, want %s", m["existing_id"], refund.ID)
	}
	// A label may change its own name's case; another workspace may have the same name.
	var upd labelBody
	e.Patch(t, "/v1/labels/"+vip.ID, w.OwnerToken, map[string]any{"name": "vip"}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Name != "vip" {
		t.Fatalf("recased: %+v", upd)
	}
	other := e.NewWorkspace(t, "Other")
	newLabel(t, e, other.OwnerToken, "REFUND", "#e5484d")
	if got := labelNames(allLabels(t, e, w.OwnerToken, 100)); !slices.Equal(got, []string{"Refund", "vip"}) {
		t.Fatalf("labels: %q", got)
	}
}

func TestLabelValidation(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	existing := newLabel(t, e, w.OwnerToken, "Refund", "#e5484d")
	long := strings.Repeat("é", 51)
	tests := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"no name", map[string]any{"color": "#e5484d"}, []string{"name"}},
		{"no color", map[string]any{"name": "VIP"}, []string{"color"}},
		{"empty body", map[string]any{}, []string{"name", "color"}},
		{"blank name", map[string]any{"name": "   ", "color": "#e5484d"}, []string{"name"}},
		{"51 characters", map[string]any{"name": long, "color": "#e5484d"}, []string{"name"}},
		{"colour without #", map[string]any{"name": "VIP", "color": "e5484d"}, []string{"color"}},
		{"three-digit colour", map[string]any{"name": "VIP", "color": "#fff"}, []string{"color"}},
		{"colour name", map[string]any{"name": "VIP", "color": "red"}, []string{"color"}},
		{"not hex", map[string]any{"name": "VIP", "color": "#12345g"}, []string{"color"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, "/v1/labels", w.OwnerToken, tc.body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if got := namedFields(t, r); !slices.Equal(got, tc.fields) {
				t.Errorf("create: fields %q, want %q", got, tc.fields)
			}
			if _, ok := tc.body["name"]; !ok {
				return // a patch leaves an absent name as it is
			}
			if _, ok := tc.body["color"]; !ok {
				return
			}
			r = e.Patch(t, "/v1/labels/"+existing.ID, w.OwnerToken, tc.body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if got := namedFields(t, r); !slices.Equal(got, tc.fields) {
				t.Errorf("update: fields %q, want %q", got, tc.fields)
			}
		})
	}
	// Wrong types and unknown fields are the body's own errors.
	e.Post(t, "/v1/labels", w.OwnerToken, map[string]any{"name": 7, "color": "#e5484d"}).ExpectProblem(t, http.StatusBadRequest, "invalid_type")
	e.Post(t, "/v1/labels", w.OwnerToken, map[string]any{"name": "VIP", "color": "#e5484d", "description": "x"}).
		ExpectProblem(t, http.StatusBadRequest, "unknown_field")
	e.Patch(t, "/v1/labels/"+existing.ID, w.OwnerToken, map[string]any{"name": nil}).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	// 50 characters once trimmed is fine.
	newLabel(t, e, w.OwnerToken, "  "+strings.Repeat("é", 50)+"  ", "#E5484D")
	if got := labelNames(allLabels(t, e, w.OwnerToken, 100)); len(got) != 2 || got[0] != "Refund" {
		t.Fatalf("labels after the refusals: %q", got)
	}
}

func TestLabelRights(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	manager := e.NewUser(t, w, "manager")
	writer := e.NewKey(t, w, "conversations:read", "conversations:write")
	reader := e.NewKey(t, w, "conversations:read")
	ch := newChannel(t, e, w.OwnerToken, "telegram")
	conv := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "tg-1", "text": "hi"}).Conversation.ID

	// Managers and admin keys define labels (as templates); agents and narrower keys may not.
	l := newLabel(t, e, manager.Token, "Refund", "#e5484d")
	for _, token := range []string{agent.Token, writer, reader} {
		e.Post(t, "/v1/labels", token, map[string]any{"name": "VIP", "color": "#ffb224"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
		e.Patch(t, "/v1/labels/"+l.ID, token, map[string]any{"name": "VIP"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
		e.Delete(t, "/v1/labels/"+l.ID, token).ExpectProblem(t, http.StatusForbidden, "forbidden")
		// ... but read them.
		if got := labelNames(allLabels(t, e, token, 10)); !slices.Equal(got, []string{"Refund"}) {
			t.Fatalf("labels read: %q", got)
		}
	}
	// Agents and conversations:write keys label conversations; conversations:read does not.
	var c labeledBody
	setLabels(t, e, agent.Token, conv, l.ID).Expect(t, http.StatusOK).JSON(t, &c)
	if !slices.Equal(c.names(), []string{"Refund"}) {
		t.Fatalf("agent's labels: %q", c.names())
	}
	setLabels(t, e, writer, conv).Expect(t, http.StatusOK)
	setLabels(t, e, reader, conv, l.ID).ExpectProblem(t, http.StatusForbidden, "forbidden")
	if got := labeled(t, e, w.OwnerToken, conv).names(); len(got) != 0 {
		t.Fatalf("after a refused PUT: %q", got)
	}
	e.Get(t, "/v1/labels", "").ExpectProblem(t, http.StatusUnauthorized, "unauthenticated")
}

func TestLabelTenancy(t *testing.T) {
	e := apitest.New(t)
	a := e.NewWorkspace(t, "A")
	b := e.NewWorkspace(t, "B")
	chA := newChannel(t, e, a.OwnerToken, "telegram")
	chB := newChannel(t, e, b.OwnerToken, "telegram")
	convA := ingest(t, e, a.APIKey, chA, map[string]any{"identifier": "tg-1", "text": "hi"}).Conversation.ID
	convB := ingest(t, e, b.APIKey, chB, map[string]any{"identifier": "tg-1", "text": "hi"}).Conversation.ID
	mine := newLabel(t, e, a.OwnerToken, "Refund", "#e5484d")
	theirs := newLabel(t, e, b.OwnerToken, "Refund", "#e5484d")
	setLabels(t, e, b.OwnerToken, convB, theirs.ID).Expect(t, http.StatusOK)

	// B's label: not found by path, invalid in a body, matches nothing as a filter.
	e.Patch(t, "/v1/labels/"+theirs.ID, a.OwnerToken, map[string]any{"name": "Mine"}).ExpectProblem(t, http.StatusNotFound, "label_not_found")
	e.Delete(t, "/v1/labels/"+theirs.ID, a.OwnerToken).ExpectProblem(t, http.StatusNotFound, "label_not_found")
	r := setLabels(t, e, a.OwnerToken, convA, mine.ID, theirs.ID).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := namedFields(t, r); !slices.Equal(got, []string{"label_ids[1]"}) {
		t.Fatalf("fields %q, want label_ids[1]", got)
	}
	if got := labeled(t, e, a.OwnerToken, convA).names(); len(got) != 0 {
		t.Fatalf("a refused PUT labelled the conversation: %q", got)
	}
	if n := len(labelsChanged(t, e, a.OwnerToken, convA)); n != 0 {
		t.Fatalf("%d events after a refused PUT", n)
	}
	if ids := inboxIDs(t, e, a.OwnerToken, q("label_id", theirs.ID, "status", "all")); len(ids) != 0 {
		t.Fatalf("A's inbox by B's label: %v", ids)
	}
	// B's conversation is not found; B's label and conversation are untouched.
	setLabels(t, e, a.OwnerToken, convB, mine.ID).ExpectProblem(t, http.StatusNotFound, "conversation_not_found")
	if got := labeled(t, e, b.OwnerToken, convB).names(); !slices.Equal(got, []string{"Refund"}) {
		t.Fatalf("B's conversation: %q", got)
	}
	if got := labelNames(allLabels(t, e, b.OwnerToken, 10)); !slices.Equal(got, []string{"Refund"}) {
		t.Fatalf("B's labels: %q", got)
	}
	if ids := inboxIDs(t, e, b.OwnerToken, q("label_id", theirs.ID)); !slices.Equal(ids, []string{convB}) {
		t.Fatalf("B's inbox by its label: %v", ids)
	}
}

func TestConversationLabelsReplace(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "telegram")
	conv := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "tg-1", "text": "hi"}).Conversation.ID
	vip := newLabel(t, e, w.OwnerToken, "VIP", "#ffb224")
	refund := newLabel(t, e, w.OwnerToken, "refund", "#e5484d")
	billing := newLabel(t, e, w.OwnerToken, "Billing", "#1f93ff")

	if c := labeled(t, e, w.OwnerToken, conv); c.Labels == nil || len(c.Labels) != 0 {
		t.Fatalf("a new conversation's labels: %+v, want []", c.Labels)
	}
	// The set, by name without regard to case, whatever order the request gives.
	e.Clock.Advance(time.Minute)
	var c labeledBody
	setLabels(t, e, w.OwnerToken, conv, vip.ID, refund.ID).Expect(t, http.StatusOK).JSON(t, &c)
	if !slices.Equal(c.names(), []string{"refund", "VIP"}) || c.Labels[1].ID != vip.ID || c.Labels[1].Color != "#ffb224" ||
		!c.UpdatedAt.Equal(e.Clock.Now()) {
		t.Fatalf("set: %+v", c)
	}
	if got := labeled(t, e, w.OwnerToken, conv); !slices.Equal(got.names(), []string{"refund", "VIP"}) || !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("GET: %+v", got)
	}
	if p := inbox(t, e, w.OwnerToken, q()); len(p.Data) != 1 {
		t.Fatalf("inbox: %+v", p)
	}
	var rows struct{ Data []labeledBody }
	e.Get(t, "/v1/conversations", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &rows)
	if len(rows.Data) != 1 || !slices.Equal(rows.Data[0].names(), []string{"refund", "VIP"}) {
		t.Fatalf("inbox rows: %+v", rows.Data)
	}
	if got := labelsChanged(t, e, w.OwnerToken, conv); len(got) != 1 || !slices.Equal(got[0], []string{"refund", "VIP"}) {
		t.Fatalf("events: %q", got)
	}

	// The same set again, repeated and reordered, is no change: no event, no new updated_at.
	e.Clock.Advance(time.Minute)
	setLabels(t, e, w.OwnerToken, conv, refund.ID, vip.ID, refund.ID).Expect(t, http.StatusOK).JSON(t, &c)
	if !slices.Equal(c.names(), []string{"refund", "VIP"}) || c.UpdatedAt.Equal(e.Clock.Now()) {
		t.Fatalf("no-op: %+v", c)
	}
	if got := labelsChanged(t, e, w.OwnerToken, conv); len(got) != 1 {
		t.Fatalf("events after a no-op: %q", got)
	}

	// Replace, not add: one stays, one goes, one comes; duplicates collapse.
	setLabels(t, e, w.OwnerToken, conv, billing.ID, vip.ID, billing.ID).Expect(t, http.StatusOK).JSON(t, &c)
	if !slices.Equal(c.names(), []string{"Billing", "VIP"}) {
		t.Fatalf("replaced: %q", c.names())
	}
	// [] clears.
	setLabels(t, e, w.OwnerToken, conv).Expect(t, http.StatusOK).JSON(t, &c)
	if c.Labels == nil || len(c.Labels) != 0 {
		t.Fatalf("cleared: %+v", c.Labels)
	}
	if got := labelsChanged(t, e, w.OwnerToken, conv); !slices.EqualFunc(got, [][]string{{"refund", "VIP"}, {"Billing", "VIP"}, {}}, slices.Equal) {
		t.Fatalf("events: %q", got)
	}
	if n := count(t, e, `SELECT count(*) FROM conversation_labels WHERE conversation_id = $1`, conv); n != 0 {
		t.Fatalf("%d rows left after clearing", n)
	}

	// Bad input: 422 naming the field, and nothing changes.
	setLabels(t, e, w.OwnerToken, conv, vip.ID).Expect(t, http.StatusOK)
	unknown := uuid.NewString()
	tests := []struct {
		name   string
		body   any
		fields []string
	}{
		{"no label_ids", map[string]any{}, []string{"label_ids"}},
		{"null label_ids", map[string]any{"label_ids": nil}, []string{"label_ids"}},
		{"a null id", map[string]any{"label_ids": []any{vip.ID, nil}}, []string{"label_ids[1]"}},
		{"malformed ids", map[string]any{"label_ids": []any{"x", vip.ID, "1234"}}, []string{"label_ids[0]", "label_ids[2]"}},
		{"an unknown id", map[string]any{"label_ids": []any{refund.ID, unknown, unknown}}, []string{"label_ids[1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Put(t, "/v1/conversations/"+conv+"/labels", w.OwnerToken, tc.body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if got := namedFields(t, r); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %q, want %q", got, tc.fields)
			}
		})
	}
	e.Put(t, "/v1/conversations/"+conv+"/labels", w.OwnerToken, map[string]any{"label_ids": "x"}).ExpectProblem(t, http.StatusBadRequest, "invalid_type")
	e.Put(t, "/v1/conversations/"+uuid.NewString()+"/labels", w.OwnerToken, map[string]any{"label_ids": []string{vip.ID}}).
		ExpectProblem(t, http.StatusNotFound, "conversation_not_found")
	if got := labeled(t, e, w.OwnerToken, conv).names(); !slices.Equal(got, []string{"VIP"}) {
		t.Fatalf("after the refusals: %q", got)
	}

	// At most 20 distinct labels; repeats do not count.
	var ids []string
	for i := range 21 {
		ids = append(ids, newLabel(t, e, w.OwnerToken, fmt.Sprintf("L%02d", i), "#000000").ID)
	}
	r := setLabels(t, e, w.OwnerToken, conv, ids...).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := namedFields(t, r); !slices.Equal(got, []string{"label_ids"}) {
		t.Fatalf("21 labels: fields %q", got)
	}
	setLabels(t, e, w.OwnerToken, conv, append(ids[:20:20], ids[:20]...)...).Expect(t, http.StatusOK).JSON(t, &c)
	if len(c.Labels) != 20 || c.Labels[0].Name != "L00" || c.Labels[19].Name != "L19" {
		t.Fatalf("20 labels: %q", c.names())
	}
}

func TestLabelDeleteTakesItOffConversations(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "telegram")
	c1 := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "tg-1", "text": "hi"}).Conversation.ID
	c2 := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "tg-2", "text": "hi"}).Conversation.ID
	refund := newLabel(t, e, w.OwnerToken, "Refund", "#e5484d")
	vip := newLabel(t, e, w.OwnerToken, "VIP", "#ffb224")
	setLabels(t, e, w.OwnerToken, c1, refund.ID, vip.ID).Expect(t, http.StatusOK)
	setLabels(t, e, w.OwnerToken, c2, refund.ID).Expect(t, http.StatusOK)

	// A rename shows on every row at once.
	e.Patch(t, "/v1/labels/"+refund.ID, w.OwnerToken, map[string]any{"name": "Refunds", "color": "#00ff00"}).Expect(t, http.StatusOK)
	if c := labeled(t, e, w.OwnerToken, c2); len(c.Labels) != 1 || c.Labels[0].Name != "Refunds" || c.Labels[0].Color != "#00ff00" {
		t.Fatalf("after the rename: %+v", c.Labels)
	}

	e.Delete(t, "/v1/labels/"+refund.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	if got := labeled(t, e, w.OwnerToken, c1).names(); !slices.Equal(got, []string{"VIP"}) {
		t.Fatalf("c1 after the delete: %q", got)
	}
	var rows struct{ Data []labeledBody }
	e.Get(t, "/v1/conversations?sort=oldest", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &rows)
	if len(rows.Data) != 2 || !slices.Equal(rows.Data[0].names(), []string{"VIP"}) || len(rows.Data[1].names()) != 0 {
		t.Fatalf("rows after the delete: %+v", rows.Data)
	}
	if ids := inboxIDs(t, e, w.OwnerToken, q("label_id", refund.ID)); len(ids) != 0 {
		t.Fatalf("the deleted label still filters: %v", ids)
	}
	if n := count(t, e, `SELECT count(*) FROM conversation_labels WHERE label_id = $1`, refund.ID); n != 0 {
		t.Fatalf("%d rows of the deleted label left", n)
	}
	// The deletion publishes no per-conversation event (documented): c2 changed once, by PUT.
	if got := labelsChanged(t, e, w.OwnerToken, c2); len(got) != 1 {
		t.Fatalf("c2's events: %q", got)
	}
	// A deleted conversation's contact takes its label rows with it.
	contact := e.Get(t, "/v1/conversations/"+c1, w.OwnerToken).Map(t)["contact"].(map[string]any)["id"].(string)
	e.Delete(t, "/v1/contacts/"+contact, w.OwnerToken).Expect(t, http.StatusNoContent)
	if n := count(t, e, `SELECT count(*) FROM conversation_labels WHERE conversation_id = $1`, c1); n != 0 {
		t.Fatalf("%d label rows of a deleted conversation", n)
	}
}

// TestInboxLabelFilter: label_id combined with status, inbox, assignee, channel, q and sort.
func TestInboxLabelFilter(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana := e.NewUser(t, w, "agent")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	refund := newLabel(t, e, w.OwnerToken, "Refund", "#e5484d")
	vip := newLabel(t, e, w.OwnerToken, "VIP", "#ffb224")
	base := e.Clock.Now().Add(-time.Hour)

	type spec struct {
		channel, identifier, last string
		labels                    []string
		ana, closed               bool
	}
	specs := []spec{
		{tg, "tg-1", "Abbott", []string{refund.ID}, true, false},                 // c0
		{wa, "+12025550102", "Baker", []string{refund.ID, vip.ID}, false, false}, // c1
		{tg, "tg-3", "Castillo", []string{vip.ID}, true, false},                  // c2
		{wa, "+12025550104", "Abbott", []string{refund.ID}, false, true},         // c3
		{tg, "tg-5", "Eriksen", nil, true, false},                                // c4
	}
	c := make([]string, len(specs))
	for i, s := range specs {
		in := ingest(t, e, w.APIKey, s.channel, map[string]any{"identifier": s.identifier, "text": "hello",
			"received_at": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"contact":     map[string]any{"first_name": "Customer", "last_name": s.last}})
		c[i] = in.Conversation.ID
		setLabels(t, e, w.OwnerToken, c[i], s.labels...).Expect(t, http.StatusOK)
		if s.ana {
			e.Put(t, "/v1/conversations/"+c[i]+"/assignee", w.OwnerToken, map[string]any{"user_id": ana.ID}).Expect(t, http.StatusOK)
		}
		if s.closed {
			e.Post(t, "/v1/conversations/"+c[i]+"/close", w.OwnerToken, nil).Expect(t, http.StatusOK)
		}
	}
	cases := []struct {
		name  string
		token string
		query url.Values
		want  []string
	}{
		{"refund, open", ana.Token, q("label_id", refund.ID), []string{c[1], c[0]}},
		{"refund, closed", ana.Token, q("label_id", refund.ID, "status", "closed"), []string{c[3]}},
		{"refund, all, oldest", ana.Token, q("label_id", refund.ID, "status", "all", "sort", "oldest"), []string{c[0], c[1], c[3]}},
		{"vip", ana.Token, q("label_id", vip.ID), []string{c[2], c[1]}},
		{"refund, mine", ana.Token, q("label_id", refund.ID, "inbox", "mine"), []string{c[0]}},
		{"refund, unassigned", ana.Token, q("label_id", refund.ID, "inbox", "unassigned", "status", "all"), []string{c[3], c[1]}},
		{"vip, assignee_id", w.APIKey, q("label_id", vip.ID, "assignee_id", ana.ID), []string{c[2]}},
		{"refund, channel", ana.Token, q("label_id", refund.ID, "channel_id", wa, "status", "all"), []string{c[3], c[1]}},
		{"refund, q", ana.Token, q("label_id", refund.ID, "q", "abbott", "status", "all"), []string{c[3], c[0]}},
		{"refund, q, status", ana.Token, q("label_id", refund.ID, "q", "abbott", "status", "closed"), []string{c[3]}},
		{"vip, q without a match", ana.Token, q("label_id", vip.ID, "q", "abbott", "status", "all"), []string{}},
		{"an unknown label", ana.Token, q("label_id", uuid.NewString(), "status", "all"), []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := inboxIDs(t, e, tc.token, tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Pages of one keep the order and the filter.
	var got []string
	path := "/v1/conversations?limit=1&status=all&label_id=" + refund.ID
	for {
		var p conversationPage
		e.Get(t, path, ana.Token).Expect(t, http.StatusOK).JSON(t, &p)
		for _, v := range p.Data {
			got = append(got, v.ID)
		}
		if p.NextCursor == nil {
			break
		}
		path = "/v1/conversations?limit=1&status=all&label_id=" + refund.ID + "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if want := []string{c[3], c[1], c[0]}; !slices.Equal(got, want) {
		t.Fatalf("paged: %v, want %v", got, want)
	}
	e.Get(t, "/v1/conversations?label_id=refund", ana.Token).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
}

// TestInboxLabelFilterPlans checks that the label filter is answered from an index of
// conversation_labels, never by scanning a table, both for a rare label (its conversations read
// from conversation_labels_label, then sorted) and for a common one (the inbox's own walk,
// probing an index for each conversation).
func TestInboxLabelFilterPlans(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	seedContacts(t, e, w.ID, 10000)
	rare := newLabel(t, e, w.OwnerToken, "Rare", "#e5484d")
	common := newLabel(t, e, w.OwnerToken, "Common", "#1f93ff")
	ctx := context.Background()
	const label = `
INSERT INTO conversation_labels (workspace_id, conversation_id, label_id, created_at)
SELECT workspace_id, id, $2, now() FROM conversations WHERE workspace_id = $1 AND hashtext(id::text) % $3 = 0`
	for _, l := range []struct {
		id    string
		every int
	}{{rare.ID, 1000}, {common.ID, 5}} {
		if _, err := e.Store.Pool.Exec(ctx, label, w.ID, l.id, l.every); err != nil {
			t.Fatal(err)
		}
	}
	// As autovacuum leaves tables that have settled.
	for _, table := range []string{"conversation_labels", "conversations"} {
		if _, err := e.Store.Pool.Exec(ctx, "VACUUM (ANALYZE) "+table); err != nil {
			t.Fatal(err)
		}
	}
	ws := uuid.MustParse(w.ID)
	for _, l := range []labelBody{rare, common} {
		for _, f := range []conversation.Filter{{Status: "open"}, {Status: "all", Q: "smith"}} {
			id := uuid.MustParse(l.ID)
			f.LabelID, f.Inbox, f.Sort = &id, "all", "newest"
			plans, err := e.Store.ExplainConversations(ctx, ws, f, page.Request{Limit: 25})
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(plans, "\n\n")
			// The label is an index condition: a driving scan of conversation_labels_label, or
			// a probe of it (or of the key, which has the same columns) per walked row.
			indexed := slices.ContainsFunc(strings.Split(plan, "\n"), func(line string) bool {
				return strings.Contains(line, "Index Cond") && strings.Contains(line, "label_id = '"+l.ID+"'")
			})
			if !indexed || strings.Contains(plan, "Seq Scan on conversation") {
				t.Errorf("%s, q=%q: the label is no index condition, or a table is scanned:\n%s", l.Name, f.Q, plan)
			}
			t.Logf("EXPLAIN ANALYZE, label %s, q=%q, on 10 000 conversations:\n%s", l.Name, f.Q, plan)
		}
	}
}
