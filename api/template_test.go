package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
)

type templateButtonBody struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Value string `json:"value"`
}

type templateBody struct {
	ID        string               `json:"id"`
	ChannelID string               `json:"channel_id"`
	Name      string               `json:"name"`
	Language  string               `json:"language"`
	Category  string               `json:"category"`
	Status    string               `json:"status"`
	Body      string               `json:"body"`
	Header    string               `json:"header"`
	Footer    string               `json:"footer"`
	Buttons   []templateButtonBody `json:"buttons"`
	Variables int                  `json:"variables"`
	CreatedAt time.Time            `json:"created_at"`
	UpdatedAt time.Time            `json:"updated_at"`
}

type templatePage struct {
	Data       []templateBody `json:"data"`
	NextCursor *string        `json:"next_cursor"`
}

// templateFields is a valid template body; the overrides replace or (with nil) remove fields.
func templateFields(overrides map[string]any) map[string]any {
	f := map[string]any{"name": "order_update", "language": "en_US", "category": "utility", "status": "approved",
		"body": "Hi {{1}}, your order {{2}} has shipped."}
	for k, v := range overrides {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

// newTemplate creates a template on the channel and expects 201.
func newTemplate(t *testing.T, e *apitest.Env, token, channel string, overrides map[string]any) templateBody {
	t.Helper()
	var out templateBody
	e.Post(t, "/v1/channels/"+channel+"/templates", token, templateFields(overrides)).Expect(t, http.StatusCreated).JSON(t, &out)
	return out
}

func TestTemplateCRUD(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")

	created := newTemplate(t, e, w.OwnerToken, wa, map[string]any{"header": "  Order update ", "footer": "Reply STOP to opt out",
		"buttons": []map[string]any{
			{"type": "url", "text": "Track", "value": "https://example.com/track"},
			{"type": "phone_number", "text": "Call us", "value": "+12025550100"},
			{"type": "quick_reply", "text": " Thanks "},
		}})
	want := []templateButtonBody{{"url", "Track", "https://example.com/track"}, {"phone_number", "Call us", "+12025550100"}, {"quick_reply", "Thanks", ""}}
	if created.ChannelID != wa || created.Name != "order_update" || created.Language != "en_US" || created.Category != "utility" ||
		created.Status != "approved" || created.Header != "Order update" || created.Footer != "Reply STOP to opt out" ||
		created.Variables != 2 || len(created.Buttons) != 3 || !created.CreatedAt.Equal(e.Clock.Now()) || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("created: %+v", created)
	}
	for i, b := range want {
		if created.Buttons[i] != b {
			t.Fatalf("button %d: %+v, want %+v", i, created.Buttons[i], b)
		}
	}

	var got templateBody
	e.Get(t, "/v1/templates/"+created.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.ID != created.ID || got.Body != created.Body || len(got.Buttons) != 3 || got.Buttons[2] != want[2] || !got.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("get: %+v", got)
	}
	// Optional parts may be left out entirely.
	plain := newTemplate(t, e, w.OwnerToken, wa, map[string]any{"name": "welcome", "language": "pt_BR", "category": "marketing",
		"status": "pending", "body": "Olá!"})
	if plain.Header != "" || plain.Footer != "" || plain.Buttons == nil || len(plain.Buttons) != 0 || plain.Variables != 0 {
		t.Fatalf("plain template: %+v", plain)
	}

	// The platform pauses the template: PATCH changes the status only, and GET shows it.
	e.Clock.Advance(time.Minute) // within the access token's lifetime
	var upd templateBody
	e.Patch(t, "/v1/templates/"+created.ID, w.OwnerToken, map[string]any{"status": "paused"}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Status != "paused" || upd.Body != created.Body || upd.Header != "Order update" || len(upd.Buttons) != 3 ||
		!upd.UpdatedAt.Equal(e.Clock.Now()) || !upd.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("paused: %+v", upd)
	}
	got = templateBody{}
	e.Get(t, "/v1/templates/"+created.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "paused" || !got.UpdatedAt.Equal(upd.UpdatedAt) {
		t.Fatalf("GET after pausing: %+v", got)
	}

	// An empty header clears it, an empty list removes the buttons, a new body recounts.
	upd = templateBody{}
	e.Patch(t, "/v1/templates/"+created.ID, w.OwnerToken, map[string]any{"header": "", "buttons": []any{}, "body": "Hi {{1}}", "status": "approved"}).
		Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.Header != "" || len(upd.Buttons) != 0 || upd.Variables != 1 || upd.Status != "approved" || upd.Footer != "Reply STOP to opt out" {
		t.Fatalf("cleared: %+v", upd)
	}
	// A refused patch changes nothing.
	e.Patch(t, "/v1/templates/"+created.ID, w.OwnerToken, map[string]any{"status": "paused", "body": "Hi {{2}}"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	got = templateBody{}
	e.Get(t, "/v1/templates/"+created.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "approved" || got.Body != "Hi {{1}}" {
		t.Fatalf("a refused patch changed the template: %+v", got)
	}

	var list templatePage
	e.Get(t, "/v1/channels/"+wa+"/templates", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 2 || list.Data[0].ID != created.ID || list.Data[1].ID != plain.ID || list.NextCursor != nil {
		t.Fatalf("list: %+v", list)
	}
	// Any channel type may hold templates.
	sms := newChannel(t, e, w.OwnerToken, "sms")
	newTemplate(t, e, w.APIKey, sms, nil)

	e.Delete(t, "/v1/templates/"+created.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/templates/"+created.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "template_not_found")
	e.Patch(t, "/v1/templates/"+created.ID, w.OwnerToken, map[string]any{"status": "approved"}).ExpectProblem(t, http.StatusNotFound, "template_not_found")
	e.Delete(t, "/v1/templates/"+created.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "template_not_found")
	list = templatePage{}
	e.Get(t, "/v1/channels/"+wa+"/templates", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != plain.ID {
		t.Fatalf("list after delete: %+v", list)
	}

	// Deleting the channel (no messages) takes its templates with it.
	e.Delete(t, "/v1/channels/"+wa, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/templates/"+plain.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "template_not_found")
	e.Get(t, "/v1/channels/"+wa+"/templates", w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "channel_not_found")
}

func TestTemplateValidation(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	existing := newTemplate(t, e, w.OwnerToken, wa, map[string]any{"name": "existing"})
	buttons := func(bs ...map[string]any) []map[string]any { return bs }
	eleven := make([]map[string]any, 11)
	for i := range eleven {
		eleven[i] = map[string]any{"type": "quick_reply", "text": "Option"}
	}

	cases := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"upper-case name", map[string]any{"name": "Order_Update"}, []string{"name"}},
		{"name with a space", map[string]any{"name": "order update"}, []string{"name"}},
		{"name with a dash", map[string]any{"name": "order-update"}, []string{"name"}},
		{"name too long", map[string]any{"name": strings.Repeat("a", 513)}, []string{"name"}},
		{"missing name", map[string]any{"name": nil}, []string{"name"}},
		{"language spelled out", map[string]any{"language": "english"}, []string{"language"}},
		{"language with a space", map[string]any{"language": "en US"}, []string{"language"}},
		{"missing language", map[string]any{"language": nil}, []string{"language"}},
		{"unknown category", map[string]any{"category": "promo"}, []string{"category"}},
		{"category in capitals", map[string]any{"category": "UTILITY"}, []string{"category"}},
		{"unknown status", map[string]any{"status": "live"}, []string{"status"}},
		{"missing status", map[string]any{"status": nil}, []string{"status"}},
		{"placeholder gap", map[string]any{"body": "Hi {{1}}, order {{3}}"}, []string{"body"}},
		{"placeholders from two", map[string]any{"body": "Hi {{2}}"}, []string{"body"}},
		{"placeholder zero", map[string]any{"body": "Hi {{0}}"}, []string{"body"}},
		{"named placeholder", map[string]any{"body": "Hi {{name}}"}, []string{"body"}},
		{"blank body", map[string]any{"body": "   "}, []string{"body"}},
		{"body too long", map[string]any{"body": strings.Repeat("x", 1025)}, []string{"body"}},
		{"header too long", map[string]any{"header": strings.Repeat("h", 61)}, []string{"header"}},
		{"footer too long", map[string]any{"footer": strings.Repeat("f", 61)}, []string{"footer"}},
		{"unknown button type", map[string]any{"buttons": buttons(map[string]any{"type": "call", "text": "Go"})}, []string{"buttons[0].type"}},
		{"url button without a URL", map[string]any{"buttons": buttons(map[string]any{"type": "url", "text": "Go", "value": "ftp://x"})}, []string{"buttons[0].value"}},
		{"quick reply with a value", map[string]any{"buttons": buttons(
			map[string]any{"type": "quick_reply", "text": "Yes"}, map[string]any{"type": "quick_reply", "text": "No", "value": "n"})}, []string{"buttons[1].value"}},
		{"phone button without a number", map[string]any{"buttons": buttons(map[string]any{"type": "phone_number", "text": "Call"})}, []string{"buttons[0].value"}},
		{"button text too long", map[string]any{"buttons": buttons(map[string]any{"type": "quick_reply", "text": strings.Repeat("t", 26)})}, []string{"buttons[0].text"}},
		{"too many buttons", map[string]any{"buttons": eleven}, []string{"buttons"}},
		{"everything wrong at once", map[string]any{"name": "X", "language": "?", "category": "", "status": "", "body": "{{2}}"},
			[]string{"name", "language", "category", "status", "body"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, "/v1/channels/"+wa+"/templates", w.OwnerToken, templateFields(tc.body)).
				ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			got := problemFields(t, r)
			for _, f := range tc.fields {
				if !got[f] {
					t.Errorf("problem does not name %s: %s", f, r.Body)
				}
			}
			if len(got) != len(tc.fields) {
				t.Errorf("problem names %v, want only %v", got, tc.fields)
			}
		})
		// The same checks guard a patch, where an absent field means "unchanged".
		patch := map[string]any{}
		for k, v := range tc.body {
			if v != nil {
				patch[k] = v
			}
		}
		if len(patch) == 0 {
			continue
		}
		t.Run("patch: "+tc.name, func(t *testing.T) {
			r := e.Patch(t, "/v1/templates/"+existing.ID, w.OwnerToken, patch).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			for _, f := range tc.fields {
				if !problemFields(t, r)[f] {
					t.Errorf("problem does not name %s: %s", f, r.Body)
				}
			}
		})
	}
	if n := count(t, e, `SELECT count(*) FROM templates`); n != 1 {
		t.Fatalf("%d templates stored, want only the valid one", n)
	}
	// The boundaries themselves are fine.
	newTemplate(t, e, w.OwnerToken, wa, map[string]any{"name": strings.Repeat("a", 512), "language": "pt-BR",
		"body": strings.Repeat("x", 1024), "header": strings.Repeat("h", 60), "footer": strings.Repeat("f", 60),
		"buttons": eleven[:10]})
}

func TestTemplateNamesAreUniquePerChannel(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	wechat := newChannel(t, e, w.OwnerToken, "wechat")
	first := newTemplate(t, e, w.OwnerToken, wa, nil)

	cases := []struct {
		name      string
		channel   string
		overrides map[string]any
		status    int
	}{
		{"same name and language", wa, nil, http.StatusConflict},
		{"same name and language, other fields differ", wa, map[string]any{"category": "marketing", "body": "New text"}, http.StatusConflict},
		{"same name, another language", wa, map[string]any{"language": "es"}, http.StatusCreated},
		{"same name and language on another channel", wechat, nil, http.StatusCreated},
		{"another name", wa, map[string]any{"name": "order_update_2"}, http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, "/v1/channels/"+tc.channel+"/templates", w.OwnerToken, templateFields(tc.overrides))
			if tc.status == http.StatusCreated {
				r.Expect(t, http.StatusCreated)
				return
			}
			r.ExpectProblem(t, tc.status, "template_exists")
			if r.Map(t)["existing_id"] != first.ID {
				t.Fatalf("conflict does not name the existing template: %s", r.Body)
			}
		})
	}

	// Renaming onto a taken name and language is the same conflict; the template stays as it was.
	var es templatePage
	e.Get(t, "/v1/channels/"+wa+"/templates", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &es)
	if len(es.Data) != 3 {
		t.Fatalf("templates on the channel: %+v", es.Data)
	}
	spanish := es.Data[1]
	if spanish.Language != "es" {
		t.Fatalf("order: %+v", es.Data)
	}
	r := e.Patch(t, "/v1/templates/"+spanish.ID, w.OwnerToken, map[string]any{"language": "en_US"}).ExpectProblem(t, http.StatusConflict, "template_exists")
	if r.Map(t)["existing_id"] != first.ID {
		t.Fatalf("patch conflict does not name the holder: %s", r.Body)
	}
	var got templateBody
	e.Get(t, "/v1/templates/"+spanish.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Language != "es" {
		t.Fatalf("refused rename changed the template: %+v", got)
	}
	// Patching a template onto its own name and language is no conflict.
	e.Patch(t, "/v1/templates/"+first.ID, w.OwnerToken, map[string]any{"name": "order_update", "language": "en_US"}).Expect(t, http.StatusOK)
}

func TestTemplatesAcrossWorkspaces(t *testing.T) {
	e := apitest.New(t)
	a := e.NewWorkspace(t, "A")
	b := e.NewWorkspace(t, "B")
	aChannel := newChannel(t, e, a.OwnerToken, "whatsapp")
	aTemplate := newTemplate(t, e, a.OwnerToken, aChannel, nil)
	bChannel := newChannel(t, e, b.OwnerToken, "whatsapp")

	type call struct {
		name, method, path string
		body               any
		code               string
	}
	calls := []call{
		{"list on A's channel", http.MethodGet, "/v1/channels/" + aChannel + "/templates", nil, "channel_not_found"},
		{"create on A's channel", http.MethodPost, "/v1/channels/" + aChannel + "/templates", templateFields(nil), "channel_not_found"},
		{"get A's template", http.MethodGet, "/v1/templates/" + aTemplate.ID, nil, "template_not_found"},
		{"patch A's template", http.MethodPatch, "/v1/templates/" + aTemplate.ID, map[string]any{"status": "paused"}, "template_not_found"},
		{"delete A's template", http.MethodDelete, "/v1/templates/" + aTemplate.ID, nil, "template_not_found"},
		{"list on an unknown channel", http.MethodGet, "/v1/channels/" + uuid.NewString() + "/templates", nil, "channel_not_found"},
		{"create on an unknown channel", http.MethodPost, "/v1/channels/" + uuid.NewString() + "/templates", templateFields(nil), "channel_not_found"},
		{"list on a malformed channel id", http.MethodGet, "/v1/channels/not-an-id/templates", nil, "channel_not_found"},
		{"get a malformed template id", http.MethodGet, "/v1/templates/42", nil, "template_not_found"},
	}
	for _, tok := range []struct{ name, value string }{{"user", b.OwnerToken}, {"api key", b.APIKey}} {
		for _, c := range calls {
			t.Run(tok.name+": "+c.name, func(t *testing.T) {
				e.Do(t, apitest.Request{Method: c.method, Path: c.path, Token: tok.value, Body: c.body}).
					ExpectProblem(t, http.StatusNotFound, c.code)
			})
		}
	}
	// B's own channel with the same template name is independent of A's.
	newTemplate(t, e, b.OwnerToken, bChannel, nil)

	var got templateBody
	e.Get(t, "/v1/templates/"+aTemplate.ID, a.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "approved" || !got.UpdatedAt.Equal(aTemplate.UpdatedAt) {
		t.Fatalf("A's template changed: %+v", got)
	}
	if n := count(t, e, `SELECT count(*) FROM templates WHERE workspace_id = $1`, a.ID); n != 1 {
		t.Fatalf("A has %d templates", n)
	}
}

func TestTemplateAccess(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	tpl := newTemplate(t, e, w.OwnerToken, wa, nil)
	agent := e.NewUser(t, w, "agent")
	manager := e.NewUser(t, w, "manager")
	readKey := e.NewKey(t, w, "conversations:read")
	contactsKey := e.NewKey(t, w, "contacts:read", "contacts:write")
	adminKey := e.NewKey(t, w, "admin")

	list := "/v1/channels/" + wa + "/templates"
	one := "/v1/templates/" + tpl.ID
	cases := []struct {
		name, token, method, path string
		body                      any
		status                    int
	}{
		{"agent lists", agent.Token, http.MethodGet, list, nil, http.StatusOK},
		{"agent reads one", agent.Token, http.MethodGet, one, nil, http.StatusOK},
		{"agent cannot create", agent.Token, http.MethodPost, list, templateFields(map[string]any{"name": "agent_made"}), http.StatusForbidden},
		{"agent cannot patch", agent.Token, http.MethodPatch, one, map[string]any{"status": "paused"}, http.StatusForbidden},
		{"agent cannot delete", agent.Token, http.MethodDelete, one, nil, http.StatusForbidden},
		{"read key lists", readKey, http.MethodGet, list, nil, http.StatusOK},
		{"read key cannot create", readKey, http.MethodPost, list, templateFields(map[string]any{"name": "key_made"}), http.StatusForbidden},
		{"contacts key cannot list", contactsKey, http.MethodGet, list, nil, http.StatusForbidden},
		{"contacts key cannot read", contactsKey, http.MethodGet, one, nil, http.StatusForbidden},
		{"no credentials", "", http.MethodGet, list, nil, http.StatusUnauthorized},
		{"manager creates", manager.Token, http.MethodPost, list, templateFields(map[string]any{"name": "manager_made"}), http.StatusCreated},
		{"admin key patches", adminKey, http.MethodPatch, one, map[string]any{"footer": "Thanks"}, http.StatusOK},
		{"admin key lists", adminKey, http.MethodGet, list, nil, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body})
			switch tc.status {
			case http.StatusForbidden:
				r.ExpectProblem(t, tc.status, "forbidden")
			case http.StatusUnauthorized:
				r.ExpectProblem(t, tc.status, "unauthenticated")
			default:
				r.Expect(t, tc.status)
			}
		})
	}
	var got templateBody
	e.Get(t, one, agent.Token).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "approved" || got.Footer != "Thanks" {
		t.Fatalf("only the admin key's patch should have landed: %+v", got)
	}
	if n := count(t, e, `SELECT count(*) FROM templates`); n != 2 {
		t.Fatalf("%d templates, want the owner's and the manager's", n)
	}
}

func TestTemplatePagination(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	other := newChannel(t, e, w.OwnerToken, "whatsapp")
	newTemplate(t, e, w.OwnerToken, other, map[string]any{"name": "elsewhere"})
	// Made out of order, so the list order is the keyset's, not creation order.
	made := [][2]string{{"shipping", "en"}, {"appointment", "pt_BR"}, {"shipping", "de"}, {"appointment", "en"},
		{"otp", "en_US"}, {"appointment", "en_GB"}, {"shipping", "es"}}
	for _, m := range made {
		newTemplate(t, e, w.OwnerToken, wa, map[string]any{"name": m[0], "language": m[1]})
	}
	want := []string{"appointment/en", "appointment/en_GB", "appointment/pt_BR", "otp/en_US", "shipping/de", "shipping/en", "shipping/es"}

	for _, limit := range []string{"1", "3", "7", "100"} {
		t.Run("limit "+limit, func(t *testing.T) {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatalf("pagination does not end: %v", got)
				}
				path := "/v1/channels/" + wa + "/templates?limit=" + limit
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				var p templatePage
				e.Get(t, path, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
				for _, tpl := range p.Data {
					if tpl.ChannelID != wa {
						t.Fatalf("another channel's template listed: %+v", tpl)
					}
					got = append(got, tpl.Name+"/"+tpl.Language)
				}
				if p.NextCursor == nil {
					break
				}
				cursor = *p.NextCursor
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("listed %v, want %v", got, want)
			}
		})
	}

	// A template added behind the cursor does not shift the next page.
	var p templatePage
	e.Get(t, "/v1/channels/"+wa+"/templates?limit=2", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
	newTemplate(t, e, w.OwnerToken, wa, map[string]any{"name": "aaa", "language": "en"})
	e.Get(t, "/v1/channels/"+wa+"/templates?limit=2&cursor="+*p.NextCursor, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
	if len(p.Data) != 2 || p.Data[0].Name+"/"+p.Data[0].Language != "appointment/pt_BR" {
		t.Fatalf("page after an insert behind the cursor: %+v", p.Data)
	}

	var channels struct {
		NextCursor *string `json:"next_cursor"`
	}
	e.Get(t, "/v1/channels?limit=1", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &channels)
	for _, tc := range []struct{ name, query string }{
		{"cursor not base64", "cursor=***"},
		{"cursor of another list", "cursor=" + *channels.NextCursor},
		{"empty position", "cursor=e30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Get(t, "/v1/channels/"+wa+"/templates?"+tc.query, w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
		})
	}
}

func TestTemplatesOfArchivedChannels(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "custom")
	tpl := newTemplate(t, e, w.OwnerToken, ch, nil)
	ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "42", "text": "hi"})
	e.Delete(t, "/v1/channels/"+ch, w.OwnerToken).Expect(t, http.StatusNoContent) // archived: it has a message

	var list templatePage
	e.Get(t, "/v1/channels/"+ch+"/templates", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != tpl.ID {
		t.Fatalf("archived channel's templates: %+v", list.Data)
	}
	e.Get(t, "/v1/templates/"+tpl.ID, w.OwnerToken).Expect(t, http.StatusOK)
	e.Post(t, "/v1/channels/"+ch+"/templates", w.OwnerToken, templateFields(map[string]any{"name": "new_one"})).
		ExpectProblem(t, http.StatusConflict, "channel_archived")
	// An invalid template on an archived channel is still told what is wrong with it first.
	e.Post(t, "/v1/channels/"+ch+"/templates", w.OwnerToken, templateFields(map[string]any{"name": "Bad"})).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	// Its existing templates can still be kept in step with the platform, or removed.
	e.Patch(t, "/v1/templates/"+tpl.ID, w.OwnerToken, map[string]any{"status": "paused"}).Expect(t, http.StatusOK)
	e.Delete(t, "/v1/templates/"+tpl.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
}

func TestTemplateMalformedRequests(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	tpl := newTemplate(t, e, w.OwnerToken, wa, nil)
	create := "/v1/channels/" + wa + "/templates"
	one := "/v1/templates/" + tpl.ID

	cases := []struct {
		name, method, path string
		body               any
		header             map[string]string
		status             int
		code               string
	}{
		{"create: not JSON", "POST", create, `{name:`, nil, 400, "invalid_json"},
		{"create: truncated", "POST", create, `{"name": "a`, nil, 400, "invalid_json"},
		{"create: empty body", "POST", create, ``, nil, 400, "invalid_json"},
		{"create: array body", "POST", create, `[]`, nil, 400, "invalid_type"},
		{"create: two objects", "POST", create, `{}{}`, nil, 400, "invalid_json"},
		{"create: text/plain", "POST", create, `{}`, map[string]string{"Content-Type": "text/plain"}, 400, "unsupported_media_type"},
		{"create: name a number", "POST", create, `{"name": 5}`, nil, 400, "invalid_type"},
		{"create: status a boolean", "POST", create, `{"status": true}`, nil, 400, "invalid_type"},
		{"create: buttons an object", "POST", create, `{"buttons": {"type": "url"}}`, nil, 400, "invalid_type"},
		{"create: buttons of strings", "POST", create, `{"buttons": ["Yes"]}`, nil, 400, "invalid_type"},
		{"create: button type a number", "POST", create, `{"buttons": [{"type": 1, "text": "x"}]}`, nil, 400, "invalid_type"},
		{"create: variables is computed", "POST", create, `{"name": "x", "variables": 2}`, nil, 400, "unknown_field"},
		{"create: channel_id is in the path", "POST", create, `{"channel_id": "` + wa + `"}`, nil, 400, "unknown_field"},
		{"create: unknown button field", "POST", create, `{"buttons": [{"type": "url", "text": "x", "url": "https://x"}]}`, nil, 400, "unknown_field"},
		{"create: empty object", "POST", create, `{}`, nil, 422, "validation_failed"},
		{"create: null body", "POST", create, `null`, nil, 422, "validation_failed"},
		{"create: body too large", "POST", create, `{"body": "` + strings.Repeat("x", 70*1024) + `"}`, nil, 413, "body_too_large"},
		{"patch: header an array", "PATCH", one, `{"header": []}`, nil, 400, "invalid_type"},
		{"patch: unknown field", "PATCH", one, `{"approved": true}`, nil, 400, "unknown_field"},
		{"patch: no body", "PATCH", one, nil, nil, 400, "invalid_json"},
		{"patch: malformed id", "PATCH", "/v1/templates/xyz", `{"status": "paused"}`, nil, 404, "template_not_found"},
		{"delete: malformed id", "DELETE", "/v1/templates/%20", nil, nil, 404, "template_not_found"},
		{"list: limit zero", "GET", create + "?limit=0", nil, nil, 400, "invalid_parameter"},
		{"list: limit not a number", "GET", create + "?limit=all", nil, nil, 400, "invalid_parameter"},
		{"list: broken query string", "GET", create + "?cursor=%%%", nil, nil, 400, "invalid_query"},
		{"routing: no PUT on a template", "PUT", one, `{}`, nil, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: w.OwnerToken, Body: tc.body, Header: tc.header})
			r.ExpectProblem(t, tc.status, tc.code)
			if p := r.Map(t); p["detail"] == "" || p["type"] != "urn:switchboard:problem:"+tc.code {
				t.Errorf("incomplete problem: %s", r.Body)
			}
		})
	}
	var got templateBody
	e.Get(t, one, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "approved" || !got.UpdatedAt.Equal(tpl.UpdatedAt) {
		t.Fatalf("a malformed request changed the template: %+v", got)
	}
}
