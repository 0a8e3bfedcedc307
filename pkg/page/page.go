// Package page provides keyset pagination: page sizes and opaque cursors.
package page

import (
	"encoding/base64"
	"encoding/json"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Limits of a page.
const (
	DefaultLimit = 25
	MaxLimit     = 100
)

// Request asks for one page: at most Limit rows after Cursor ("" for the first page).
type Request struct {
	Limit  int
	Cursor string
}

// Encode makes an opaque cursor from a keyset position.
func Encode(pos any) string {
	b, _ := json.Marshal(pos)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode into pos; anything else is ErrInvalidCursor.
func Decode(cursor string, pos any) error {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 {
		return errkind.ErrInvalidCursor
	}
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(pos); err != nil {
		return errkind.ErrInvalidCursor
	}
	return nil
}
