package openapi

import (
	"errors"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchboard/switchboard/pkg/phone"
)

// FormatPhone is the format of a phone number the server takes (a contact's phone): one
// libphonenumber finds possible for its country, international (+ and the country code) or
// national to the workspace's default_phone_region, stored as E.164. A generated client sees
// a string; a validator or a fuzzer that knows the format can hold values to it.
const FormatPhone = "phone"

// The document's own formats are registered with kin-openapi when this package loads: the
// checks that a schema's format is known (Strict, in cmd/specgen and the tests) read
// kin-openapi's global table, not a document's.
func init() {
	openapi3.DefineStringFormatValidator(FormatPhone, openapi3.NewCallbackValidator(validPhone))
}

// errNotPhone is a value of format phone that no country's numbering plan makes possible.
var errNotPhone = errors.New("not a possible phone number")

// validPhone holds an international number to libphonenumber's possible lengths, as the
// server does (phone.Normalize). A national number depends on the workspace's region, which
// only the server knows, so it is left to the server; so is the empty value that clears a
// phone (the pattern admits it).
func validPhone(s string) error {
	t := strings.TrimSpace(s)
	if t == "" || !strings.HasPrefix(t, "+") {
		return nil
	}
	if _, err := phone.Normalize(t, ""); err != nil {
		return errNotPhone
	}
	return nil
}
