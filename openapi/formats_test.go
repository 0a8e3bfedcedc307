package openapi

import "testing"

// The phone format holds international numbers to what the server takes (phone.Normalize)
// and leaves national ones, whose region only the server knows, and the empty value.
func TestPhoneFormat(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"+1 202 555 0123", true},
		{"+44 7400 123456", true},
		{"+12025550123", true},
		{"  +49 30 123456  ", true},
		{"(202) 555-0123", true}, // national: the server reads it in the workspace's region
		{"", true},               // clears the phone
		{"+999 123 4567", false}, // no country has code 999
		{"+1 202 55", false},     // too short for the North American plan
		{"+44 1", false},
	} {
		if err := validPhone(tc.value); (err == nil) != tc.ok {
			t.Errorf("validPhone(%q) = %v, want ok %v", tc.value, err, tc.ok)
		}
	}
}
