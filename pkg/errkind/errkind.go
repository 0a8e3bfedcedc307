// Package errkind provides the small set of error kinds that domain errors unwrap to, so the
// HTTP layer can pick a status from one table without knowing any domain package.
package errkind

import (
	"errors"
	"fmt"
	"time"
)

// Kind is a category of failure the caller can act on.
type Kind int

// The kinds. Each maps to exactly one HTTP status in api/problem.go.
const (
	KindInvalid         Kind = iota + 1 // the input is wrong (422)
	KindBadRequest                      // the request cannot be read (400)
	KindNotFound                        // no such resource in this workspace (404)
	KindConflict                        // the resource's state forbids it (409)
	KindForbidden                       // authenticated but not allowed (403)
	KindUnauthenticated                 // no or bad credentials (401)
	KindRefused                         // a business rule refuses it (422 with details)
	KindTooLarge                        // the body is over the limit (413)
	KindRateLimited                     // too many requests (429)
	KindUnavailable                     // a dependency is down (503)
	KindTimeout                         // the request did not arrive in time (408)
)

// Field names one offending input field.
type Field struct {
	Field   string
	Message string
}

// Error is a domain error with a stable machine-readable code.
type Error struct {
	Kind   Kind
	Code   string         // stable snake_case code clients switch on
	Detail string         // human explanation
	Fields []Field        // offending fields for validation errors
	Extra  map[string]any // additional problem members (e.g. existing_id, decision)
	Err    error          // cause, if any
	// RetryAfter tells a client refused for now (KindRateLimited, KindUnavailable) when to try
	// again; the HTTP layer sends it as Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return e.Code + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is match two *Error values with the same code, so package-level sentinels
// still match after With* copies.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Kind == e.Kind
}

// New returns an error of the kind with a code and detail.
func New(kind Kind, code, detail string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail}
}

// With returns a copy with an extra problem member.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// WithRetryAfter returns a copy that tells the client to wait d before trying again.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// Detailf returns a copy with another detail.
func (e *Error) Detailf(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// Invalid builds a validation error from the offending fields.
func Invalid(fields ...Field) *Error {
	detail := "The request has invalid fields."
	if len(fields) == 1 {
		detail = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Kind: KindInvalid, Code: "validation_failed", Detail: detail, Fields: fields}
}

// Fields collects validation failures; its Err is nil while it is empty.
type Fields []Field

// Add records a failure.
func (f *Fields) Add(field, message string) { *f = append(*f, Field{field, message}) }

// Err returns the validation error, or nil when nothing failed.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f...)
}

// As extracts the *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Common errors shared by several domains.
var (
	ErrForbidden       = New(KindForbidden, "forbidden", "Your role or key scopes do not allow this.")
	ErrUnauthenticated = New(KindUnauthenticated, "unauthenticated", "Missing or invalid credentials.")
	ErrInvalidCursor   = New(KindBadRequest, "invalid_cursor", "The cursor is malformed or belongs to another query.")
)
