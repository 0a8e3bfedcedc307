package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// requestTypes is every type a handler binds a body into (grep bind( and bindOptional( in
// api/); a new request type belongs here so FuzzBind covers it.
var requestTypes = []func() any{
	func() any { return new(loginRequest) },
	func() any { return new(refreshRequest) },
	func() any { return new(createAPIKeyRequest) },
	func() any { return new(createUserRequest) },
	func() any { return new(updateUserRequest) },
	func() any { return new(updateWorkspaceRequest) },
	func() any { return new(createChannelRequest) },
	func() any { return new(updateChannelRequest) },
	func() any { return new(setChannelProviderRequest) },
	func() any { return new(createIdentityRequest) },
	func() any { return new(contactRequest) },
	func() any { return new(templateRequest) },
	func() any { return new(inboundRequest) },
	func() any { return new(sendMessageRequest) },
	func() any { return new(closeConversationRequest) },
	func() any { return new(reopenConversationRequest) },
	func() any { return new(assignConversationRequest) },
	func() any { return new(createWebhookRequest) },
	func() any { return new(updateWebhookRequest) },
	func() any { return new(createLabelRequest) },
	func() any { return new(updateLabelRequest) },
	func() any { return new(setConversationLabelsRequest) },
	func() any { return new(createTeamRequest) },
	func() any { return new(updateTeamRequest) },
	func() any { return new(setTeamMembersRequest) },
	func() any { return new(setConversationTeamRequest) },
	func() any { return new(setAvailabilityRequest) },
	func() any { return new(createCannedRequest) },
	func() any { return new(updateCannedRequest) },
	func() any { return new(renderCannedRequest) },
	func() any { return new(bulkRequest) },
}

// FuzzBind decodes each input into every request type. The invariants: bind never panics,
// and what it accepts holds no NUL character anywhere (strings, keys, raw JSON), is not
// the null body, and nests no deeper than the request types plus the free-form cap.
func FuzzBind(f *testing.F) {
	for _, s := range []string{
		`{"email":"owner@example.com","password":"correct horse battery"}`,
		`{"first_name":"Maria","tags":["vip"],"custom_fields":{"plan":"pro","n":[1,{"a":null}]}}`,
		`{"type":"template","template":{"name":"order_update","language":"en_US","variables":["Maria","#1234"]}}`,
		`{"user_id":null}`,
		`{"config":{"verify_token":null},"rule_options":{"human_agent_tag":false}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newReq := range requestTypes {
			dst := newReq()
			if err := decodeBody(body, dst); err != nil {
				continue
			}
			name := reflect.TypeOf(dst).Elem().Name()
			if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
				t.Fatalf("%s accepted the null body", name)
			}
			if path, ok := findNUL(reflect.ValueOf(dst), name); ok {
				t.Fatalf("%s accepted a NUL at %s: %q", name, path, body)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%s accepted a body encoding/json refuses: %v", name, err)
			}
			// Request types nest at most 3 levels (send → template → variables).
			if d := depth(v); d > maxFreeFormDepth+3 {
				t.Fatalf("%s accepted a body %d levels deep", name, d)
			}
		}
	})
}

// findNUL walks a decoded request for a string holding U+0000.
func findNUL(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return findNUL(v.Elem(), path)
		}
	case reflect.Slice:
		if raw, ok := v.Interface().(json.RawMessage); ok {
			var x any
			if json.Unmarshal(raw, &x) == nil {
				return findNUL(reflect.ValueOf(&x), path)
			}
			return "", false
		}
		for i := range v.Len() {
			if p, ok := findNUL(v.Index(i), path+"[]"); ok {
				return p, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if strings.IndexByte(it.Key().String(), 0) >= 0 {
				return path + " (a key)", true
			}
			if p, ok := findNUL(it.Value(), path+"."+it.Key().String()); ok {
				return p, true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if p, ok := findNUL(v.Field(i), path+"."+v.Type().Field(i).Name); ok {
				return p, true
			}
		}
	}
	return "", false
}

// depth counts the objects and arrays on the deepest path of a decoded JSON value.
func depth(v any) int {
	d := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			d = max(d, depth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range v {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}
