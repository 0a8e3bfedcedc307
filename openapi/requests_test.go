package openapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// serverRequired lists, per request body schema, the fields the server refuses a request
// without (a 4xx naming the field); the spec's required must list at least these, so a client
// generated from it cannot leave them out.
var serverRequired = map[string][]string{
	"AssignConversationRequest":    {"user_id"},
	"CreateAPIKeyRequest":          {"name"},
	"CreateChannelIdentityRequest": {"channel_id", "identifier"},
	"CreateChannelRequest":         {"name", "type"},
	"CreateUserRequest":            {"email", "password", "role"},
	"CreateWebhookRequest":         {"events", "url"},
	"InboundMessageRequest":        {"identifier"},
	"LoginRequest":                 {"email", "password"},
	"RefreshRequest":               {"refresh_token"},
	"SendMessageRequest":           {"type"},
	"TemplateButtonRequest":        {"text", "type"},
	"TemplateSendRequest":          {"language", "name"},
	// The shapes of the unions (cmd/specgen's requestUnions) add what their case needs.
	"SendTextMessageRequest":            {"text"},
	"SendTemplateMessageRequest":        {"template"},
	"SendAttachmentMessageRequest":      {"attachments"},
	"InboundTextMessageRequest":         {"text"},
	"InboundAttachmentMessageRequest":   {"attachments"},
	"MediaAttachmentRequest":            {"media_id"},
	"LinkAttachmentRequest":             {"mime_type", "url"},
	"TemplateURLButtonRequest":          {"value"},
	"TemplatePhoneNumberButtonRequest":  {"value"},
	"CreateWhatsAppCloudChannelRequest": {"config", "provider"},
	"CreateSMSTwilioChannelRequest":     {"config", "provider"},
	"CreateEmailSMTPChannelRequest":     {"config", "provider"},
	// A change names the channel's type, and its provider with config (channel.Service's
	// Update); a provider switch names both and, but for the sandbox, the whole config.
	"UpdateChannelRequest":                      {"type"},
	"UpdateSMSTwilioChannelRequest":             {"provider"},
	"UpdateWhatsAppWhatsAppCloudChannelRequest": {"provider"},
	"SetChannelProviderRequest":                 {"provider", "type"},
	"SetWhatsAppCloudProviderRequest":           {"config"},
	"SetEmailSMTPProviderRequest":               {"config"},
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.json")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return doc
}

// TestRequestBodiesAreClosed: the server decodes bodies with unknown fields refused (api/bind.go),
// so every JSON request body schema, and every *Request schema nested in one, says
// additionalProperties: false, and lists at least serverRequired's fields as required. A
// union (a oneOf of one shape per case) holds that of each of its shapes, which are *Request
// schemas too, and each shape also requires what serverRequired says of the union.
func TestRequestBodiesAreClosed(t *testing.T) {
	doc := loadSpec(t)
	bodies := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil || mt.Schema.Ref == "" {
				continue // the provider webhook takes the provider's own payloads, as they come
			}
			bodies++
			if name := mt.Schema.Ref[strings.LastIndexByte(mt.Schema.Ref, '/')+1:]; !strings.HasSuffix(name, "Request") {
				t.Errorf("%s %s: body schema %s is not a *Request schema", method, path, name)
			}
		}
	}
	if bodies < 15 {
		t.Fatalf("found %d JSON request bodies; the walk is broken", bodies)
	}
	seen := map[string]bool{}
	for name, ref := range doc.Components.Schemas {
		if !strings.HasSuffix(name, "Request") {
			continue
		}
		seen[name] = true
		s := ref.Value
		if len(s.OneOf) > 0 {
			for _, shape := range s.OneOf {
				shapeName := shape.Ref[strings.LastIndexByte(shape.Ref, '/')+1:]
				if !strings.HasSuffix(shapeName, "Request") {
					t.Errorf("%s: its shape %q is not a *Request schema", name, shape.Ref)
				}
				for _, f := range serverRequired[name] {
					if !slices.Contains(shape.Value.Required, f) {
						t.Errorf("%s: %q is required by the server but not in %s's required %v", name, f, shapeName, shape.Value.Required)
					}
				}
			}
			if len(s.Properties) > 0 || len(s.Required) > 0 || s.AdditionalProperties.Has != nil {
				t.Errorf("%s: a union says nothing beside its oneOf; its shapes say it", name)
			}
			continue
		}
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has || s.AdditionalProperties.Schema != nil {
			t.Errorf("%s: additionalProperties must be false (the server rejects unknown fields)", name)
		}
		for _, f := range serverRequired[name] {
			if !slices.Contains(s.Required, f) {
				t.Errorf("%s: %q is required by the server but not in required %v", name, f, s.Required)
			}
			if s.Properties[f] == nil {
				t.Errorf("%s: required %q is not a property", name, f)
			}
		}
	}
	for name := range serverRequired {
		if !seen[name] {
			t.Errorf("serverRequired names %s, which the spec no longer has", name)
		}
	}
}

// TestParameterConstraints: limit is 1..100 everywhere (pageParams), and the {id} path
// parameter is a UUID.
func TestParameterConstraints(t *testing.T) {
	doc := loadSpec(t)
	limits := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, pr := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				p := pr.Value
				s := p.Schema.Value
				switch {
				case p.In == openapi3.ParameterInQuery && p.Name == "limit":
					limits++
					if s.Min == nil || *s.Min != 1 || s.Max == nil || *s.Max != 100 {
						t.Errorf("%s %s: limit must have minimum 1 and maximum 100", method, path)
					}
				case p.In == openapi3.ParameterInPath && p.Name == "id":
					if s.Format != "uuid" {
						t.Errorf("%s %s: path id must have format uuid", method, path)
					}
				}
			}
		}
	}
	if limits < 10 {
		t.Fatalf("found %d limit parameters; the walk is broken", limits)
	}
}
