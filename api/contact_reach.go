package api

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/resource"
)

// A contact's reach (email, phone, the identity's address) and profile (tags, custom fields,
// language, country) are for callers with contacts:read. Routes under other scopes embed
// contacts (inbox rows, the thread, inbound and send answers, events); there a caller without
// it sees the contact's id and display name, and null for the rest. Users hold contacts:read
// through every role, so this concerns API keys. Subscriber webhooks carry everything: an
// admin configures them.

// seesContacts reports whether p may read contacts' reach and profile.
func seesContacts(p auth.Principal) bool { return p.Has(auth.ScopeContactsRead) }

// contactReachFields are the members nulled for a caller without contacts:read, in a
// Contact and in a ConversationContact alike.
var contactReachFields = []string{"email", "phone", "tags", "custom_fields", "language", "country"}

// hideReach nulls a contact's reach and profile.
func hideReach(r *resource.Contact) {
	r.Email, r.Phone, r.Tags, r.CustomFields, r.Language, r.Country = nil, nil, nil, nil, nil, nil
}

// conversationFor is the conversation as p may see it.
func conversationFor(p auth.Principal, v resource.Conversation) resource.Conversation {
	if !seesContacts(p) {
		v.Contact.Email, v.Contact.Phone = nil, nil
	}
	return v
}

// hideReachIn nulls the reach members of the JSON object at path inside doc (doc itself for
// no path). Stored JSON (events, replayed answers) is redacted this way when it is read, so
// it keeps every other member whatever shape it was written in. A path that is not there
// leaves doc as it is.
func hideReachIn(doc []byte, path ...string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil {
		return nil, fmt.Errorf("redact contact: %w", err)
	}
	if obj == nil {
		return doc, nil
	}
	if len(path) > 0 {
		inner, ok := obj[path[0]]
		if !ok || string(inner) == "null" {
			return doc, nil
		}
		hidden, err := hideReachIn(inner, path[1:]...)
		if err != nil {
			return nil, err
		}
		obj[path[0]] = hidden
	} else {
		for _, k := range contactReachFields {
			if _, ok := obj[k]; ok {
				obj[k] = json.RawMessage("null")
			}
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("redact contact: %w", err)
	}
	return b, nil
}

// eventFor is e as p may see it: conversation events embed the contact, contact events are
// the contact (eventFilter keeps those from callers without contacts:read anyway).
func eventFor(p auth.Principal, e event.Event) (event.Event, error) {
	if seesContacts(p) {
		return e, nil
	}
	var path []string
	switch {
	case strings.HasPrefix(e.Type, "conversation."):
		path = []string{"contact"}
	case strings.HasPrefix(e.Type, "contact."):
	default:
		return e, nil
	}
	b, err := hideReachIn(e.Payload, path...)
	if err != nil {
		return event.Event{}, fmt.Errorf("event %d: %w", e.ID, err)
	}
	e.Payload = b
	return e, nil
}
