// Package resource is the API's public JSON: every shape an answer, an event payload or a
// replayed send carries, and its conversion from the domain's values. The HTTP handlers, the
// store (which writes event payloads and idempotent answers inside its transactions) and
// anything else that speaks the API's JSON use these, so each shape is written once.
//
// Each type's `// @name` comment is its schema name in the OpenAPI document (swag reads this
// package beside api/). What a caller may see of a shape (a contact's reach without the
// contacts:read scope) is decided in api, not here.
package resource

import "github.com/google/uuid"

// idString is an id as the API writes it: null for the zero id.
func idString(id uuid.UUID) *string {
	if id == uuid.Nil {
		return nil
	}
	s := id.String()
	return &s
}

// optID is an optional id as the API writes it.
func optID(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	return idString(*id)
}

// orEmpty is s, or an empty slice where the API writes [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// optString is an optional string member: null for "".
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
