package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/openapi"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// specOperation is one operation of the committed spec.
type specOperation struct {
	method, path string
	op           *openapi3.Operation
}

// specOperations lists the spec's operations in a stable order.
func specOperations(t *testing.T) []specOperation {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.JSON)
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	var out []specOperation
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			out = append(out, specOperation{method, path, op})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].method+out[i].path < out[j].method+out[j].path })
	return out
}

// jsonBody is the operation's JSON request schema, nil without one. The provider webhook's
// body is the provider's own format, tested on its own below.
func (o specOperation) jsonBody() *openapi3.Schema {
	if o.op.RequestBody == nil || strings.HasPrefix(o.path, "/webhooks/{id}/") {
		return nil
	}
	mt := o.op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// url fills the path's {id} with ids[the path's first segment after /v1], or a fresh id.
func (o specOperation) url(ids map[string]string) string {
	p := o.path
	for strings.Contains(p, "{") {
		i, j := strings.Index(p, "{"), strings.Index(p, "}")
		id, ok := ids[strings.Split(strings.TrimPrefix(p[:i], "/v1/"), "/")[0]]
		if !ok {
			id = uuid.NewString()
		}
		p = p[:i] + id + p[j+1:]
	}
	return p
}

// resources makes one of each resource a path can name, so each probe reaches the real
// handler and store; webhooks are left out, since a stored one could be dialled.
func resources(t *testing.T, e *apitest.Env, w *apitest.Workspace) map[string]string {
	t.Helper()
	ids := map[string]string{"users": e.NewUser(t, w, "agent").ID}
	ids["contacts"] = e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Ana"})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA"}).Expect(t, http.StatusCreated).JSON(t, &ch)
	ids["channels"] = ch.ID
	ids["templates"] = newTemplate(t, e, w.OwnerToken, ch.ID, nil).ID
	var in struct {
		Conversation conversationBody `json:"conversation"`
	}
	e.Post(t, "/v1/channels/"+ch.ID+"/inbound", w.OwnerToken, map[string]any{"identifier": "+12025550123", "text": "hi"}).
		Expect(t, http.StatusCreated).JSON(t, &in)
	ids["conversations"] = in.Conversation.ID
	return ids
}

// probe is one body that puts a bad value at one place.
type probe struct {
	field string // the JSON path the answer must name
	body  any
}

// flat is a body schema as the server decodes it, into one struct: a union (a oneOf of one
// shape per case, as cmd/specgen writes SendMessageRequest) has the members of all its shapes,
// each with its first shape's schema.
func flat(s *openapi3.Schema) *openapi3.Schema {
	if len(s.AllOf) == 1 && len(s.Properties) == 0 {
		// A described reference (a member with its own description): the referenced schema.
		return flat(s.AllOf[0].Value)
	}
	if len(s.OneOf) == 0 {
		return s
	}
	m := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{}}
	for _, shape := range s.OneOf {
		for k, p := range flat(shape.Value).Properties {
			if _, ok := m.Properties[k]; !ok {
				m.Properties[k] = p
			}
		}
	}
	return m
}

// nulProbes puts "\u0000" into each string the schema admits, one at a time: every string
// property and array item, at any depth, and into values and keys of free-form objects.
func nulProbes(s *openapi3.Schema, path string) []probe {
	s = flat(s)
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch {
	case s.Type.Is("string"):
		return []probe{{path, "\x00"}}
	case s.Type.Is("array"):
		var out []probe
		for _, p := range nulProbes(s.Items.Value, path+"[0]") {
			out = append(out, probe{p.field, []any{p.body}})
		}
		return out
	case len(s.Properties) > 0:
		var out []probe
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range s.Properties {
				if !yield(k) {
					return
				}
			}
		}) {
			for _, p := range nulProbes(s.Properties[k].Value, join(k)) {
				out = append(out, probe{p.field, map[string]any{k: p.body}})
			}
		}
		return out
	case s.Type.Is("object") || s.Type == nil:
		// Free-form: a value, a nested value, an array item and a key.
		return []probe{
			{join("k"), map[string]any{"k": "\x00"}},
			{join("k") + ".n", map[string]any{"k": map[string]any{"n": "a\x00b"}}},
			{join("k") + "[1]", map[string]any{"k": []any{"ok", "\x00"}}},
			{fieldOrBody(path), map[string]any{"a\x00": "x"}},
		}
	}
	return nil
}

func fieldOrBody(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// namedFields are the fields a problem names, in order.
func namedFields(t *testing.T, r *apitest.Response) []string {
	t.Helper()
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	r.JSON(t, &p)
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// TestNULInEveryBodyField walks every operation of the committed spec that takes a JSON body
// and puts U+0000 into each string it admits: each answer is 422 invalid_character naming
// the field (PostgreSQL refuses NUL in text; it was a 500).
func TestNULInEveryBodyField(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ids := resources(t, e, w)
	contacts := count(t, e, `SELECT count(*) FROM contacts`)
	n := 0
	for _, o := range specOperations(t) {
		s := o.jsonBody()
		if s == nil {
			continue
		}
		for _, p := range nulProbes(s, "") {
			n++
			t.Run(o.method+" "+o.path+" "+p.field, func(t *testing.T) {
				r := e.Do(t, apitest.Request{Method: o.method, Path: o.url(ids), Token: w.OwnerToken, Body: p.body})
				r.ExpectProblem(t, http.StatusUnprocessableEntity, "invalid_character")
				if got := namedFields(t, r); !slices.Equal(got, []string{p.field}) {
					t.Errorf("fields %q, want %q: %s", got, p.field, r.Body)
				}
			})
		}
	}
	if n < 60 {
		t.Fatalf("only %d probes: the spec walk lost its way", n)
	}
	if got := count(t, e, `SELECT count(*) FROM contacts`); got != contacts {
		t.Fatalf("%d contacts, want the %d made before: refused bodies stored some", got, contacts)
	}
}

// TestNULInQueryParameters puts %00 into every query parameter of every operation: 400
// invalid_character naming the parameter, never a 500 (q=%00 on contacts and conversations
// was one).
func TestNULInQueryParameters(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ids := resources(t, e, w)
	seen := map[string]bool{}
	for _, o := range specOperations(t) {
		for _, prm := range o.op.Parameters {
			if prm.Value.In != "query" {
				continue
			}
			name := prm.Value.Name
			seen[o.path+"?"+name] = true
			token := w.OwnerToken
			if o.path == "/v1/events/stream" {
				token = "" // with a bearer token a stream that opens never ends
			}
			t.Run(o.method+" "+o.path+"?"+name, func(t *testing.T) {
				r := e.Do(t, apitest.Request{Method: o.method, Path: o.url(ids) + "?" + url.QueryEscape(name) + "=a%00b", Token: token})
				r.ExpectProblem(t, http.StatusBadRequest, "invalid_character")
				if got := namedFields(t, r); !slices.Equal(got, []string{name}) {
					t.Errorf("fields %q, want %q", got, name)
				}
			})
		}
	}
	for _, must := range []string{"/v1/contacts?q", "/v1/conversations?q", "/v1/contacts?cursor"} {
		if !seen[must] {
			t.Errorf("the spec walk did not reach %s", must)
		}
	}
	// A parameter's name too.
	e.Get(t, "/v1/contacts?%00=1", w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_character")
}

// TestExplicitNulls: a null body and an explicit null on a field the spec does not mark
// nullable are 422 naming the field, on every operation; they used to read as {} and as
// "absent" ({"scopes": null} made a key with every scope). Declared nulls keep working.
func TestExplicitNulls(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	nullable := 0
	for _, o := range specOperations(t) {
		s := o.jsonBody()
		if s == nil {
			continue
		}
		t.Run(o.method+" "+o.path+" null body", func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: o.method, Path: o.url(nil), Token: w.OwnerToken, Body: "null"})
			r.ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if got := namedFields(t, r); !slices.Equal(got, []string{"(body)"}) {
				t.Errorf("fields %q", got)
			}
		})
		for k, prop := range flat(s).Properties {
			if prop.Value.Nullable {
				nullable++
				continue
			}
			t.Run(o.method+" "+o.path+" "+k+": null", func(t *testing.T) {
				r := e.Do(t, apitest.Request{Method: o.method, Path: o.url(nil), Token: w.OwnerToken, Body: map[string]any{k: nil}})
				r.ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
				if got := namedFields(t, r); !slices.Equal(got, []string{k}) {
					t.Errorf("fields %q, want %q", got, k)
				}
			})
		}
	}
	if nullable == 0 {
		t.Error("no nullable request field in the spec: PUT assignee's user_id should be one")
	}

	keys := func() int {
		var l struct{ Data []any }
		e.Get(t, "/v1/api-keys", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &l)
		return len(l.Data)
	}
	before := keys()
	e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "sync", "scopes": nil}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "sync", "scopes": []any{"contacts:read", nil}}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	pt.Equal(t, "keys after refused creations", keys(), before)

	e.Post(t, "/v1/contacts", w.OwnerToken, "null").ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	var contacts contactPage
	e.Get(t, "/v1/contacts", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &contacts)
	pt.Equal(t, "contacts after a null body", len(contacts.Data), 0)

	// Nulls the API declares keep working: unassigning, clearing rule options, and nulls
	// inside free-form values.
	ct := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Ana", "custom_fields": map[string]any{"plan": "pro"}})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "custom", "name": "Bridge"}).Expect(t, http.StatusCreated).JSON(t, &ch)
	var in struct {
		Conversation conversationBody `json:"conversation"`
	}
	e.Post(t, "/v1/channels/"+ch.ID+"/inbound", w.OwnerToken, map[string]any{"identifier": "cust-1", "text": "hi"}).
		Expect(t, http.StatusCreated).JSON(t, &in)
	conv := "/v1/conversations/" + in.Conversation.ID + "/assignee"
	e.Put(t, conv, w.OwnerToken, map[string]any{"user_id": w.OwnerID}).Expect(t, http.StatusOK)
	var assigned conversationBody
	e.Put(t, conv, w.OwnerToken, map[string]any{"user_id": nil}).Expect(t, http.StatusOK).JSON(t, &assigned)
	if assigned.Assignee != nil {
		t.Fatalf("still assigned after user_id null: %+v", assigned.Assignee)
	}
	e.Patch(t, "/v1/channels/"+ch.ID, w.OwnerToken, map[string]any{"type": "custom", "rule_options": map[string]any{"window_hours": nil}}).Expect(t, http.StatusOK)
	e.Patch(t, "/v1/contacts/"+ct, w.OwnerToken, map[string]any{"custom_fields": map[string]any{"a": []any{nil}}}).Expect(t, http.StatusOK)
}

// nested is a free-form value depth objects deep.
func nested(depth int) map[string]any {
	v := map[string]any{"leaf": "x"}
	for range depth - 1 {
		v = map[string]any{"a": v}
	}
	return v
}

// TestFreeFormCaps: free-form objects are capped at 8 levels and 16 KiB of JSON wherever the
// API stores them; custom_fields 5 000 levels deep used to be stored and broke clients' parsers.
func TestFreeFormCaps(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ct := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Ana", "custom_fields": nested(8)})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "custom", "name": "Bridge"}).Expect(t, http.StatusCreated).JSON(t, &ch)

	deep5000 := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	tests := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"contact 9 deep", "POST", "/v1/contacts", map[string]any{"custom_fields": nested(9)}, "custom_fields"},
		{"contact 5000 deep", "POST", "/v1/contacts", `{"custom_fields":` + deep5000 + `}`, "custom_fields"},
		{"contact deep in an array", "POST", "/v1/contacts", map[string]any{"custom_fields": map[string]any{"l": []any{[]any{[]any{[]any{[]any{[]any{[]any{[]any{1}}}}}}}}}}, "custom_fields"},
		{"contact over 16 KiB", "POST", "/v1/contacts", map[string]any{"custom_fields": map[string]any{"notes": strings.Repeat("x", 16*1024)}}, "custom_fields"},
		{"contact patch 9 deep", "PATCH", "/v1/contacts/" + ct, map[string]any{"custom_fields": nested(9)}, "custom_fields"},
		// A null value would answer a contact the spec does not allow; nulls deeper down are data.
		{"contact custom field null", "POST", "/v1/contacts", map[string]any{"custom_fields": map[string]any{"plan": nil}}, "custom_fields.plan"},
		{"contact patch custom field null", "PATCH", "/v1/contacts/" + ct, map[string]any{"custom_fields": map[string]any{"a": 1, "plan": nil}}, "custom_fields.plan"},
		{"channel config 9 deep", "POST", "/v1/channels", map[string]any{"type": "custom", "name": "x", "config": nested(9)}, "config"},
		{"channel rule_options 9 deep", "PATCH", "/v1/channels/" + ch.ID, map[string]any{"type": "custom", "rule_options": nested(9)}, "rule_options"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: w.OwnerToken, Body: tc.body})
			r.ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if got := namedFields(t, r); !slices.Equal(got, []string{tc.field}) {
				t.Errorf("fields %q, want %q", got, tc.field)
			}
		})
	}
	var list contactPage
	e.Get(t, "/v1/contacts", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	pt.Equal(t, "contacts stored", len(list.Data), 1)
	if list.Data[0].ID != ct || list.Data[0].CustomFields["a"] == nil {
		t.Fatalf("the 8-deep contact: %+v", list.Data[0])
	}
}
