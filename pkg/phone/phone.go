// Package phone normalises phone numbers to E.164.
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid means the input is not a dialable phone number.
var ErrInvalid = errors.New("not a valid phone number")

// Normalize parses raw (international, or national in region) and returns its E.164 form.
func Normalize(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 64 {
		return "", ErrInvalid
	}
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil {
		return "", ErrInvalid
	}
	// IsPossibleNumber rather than IsValidNumber: numbering plans change faster than the
	// library's metadata, and refusing a real customer's number is worse than keeping an odd one.
	if !phonenumbers.IsPossibleNumber(num) {
		return "", ErrInvalid
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// ValidRegion reports whether region is a two-letter region the parser knows.
func ValidRegion(region string) bool {
	return len(region) == 2 && phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) != 0
}
