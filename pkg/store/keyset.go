package store

import (
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

// keyset is one list's keyset pagination: how a row's position is written into the cursor,
// and which decoded positions are well formed. Every list in the store pages through it, so
// a cursor is read, checked and made the same way everywhere.
type keyset[R, C any] struct {
	// key is the cursor position of a row: the columns the list orders by.
	key func(R) C
	// valid reports whether a decoded position could have come from key (a zero id, for
	// instance, cannot); an invalid one is errkind.ErrInvalidCursor. nil accepts any.
	valid func(C) bool
}

// after decodes p's cursor: nil for the first page.
func (k keyset[R, C]) after(p page.Request) (*C, error) {
	if p.Cursor == "" {
		return nil, nil
	}
	var c C
	if err := page.Decode(p.Cursor, &c); err != nil {
		return nil, err
	}
	if k.valid != nil && !k.valid(c) {
		return nil, errkind.ErrInvalidCursor
	}
	return &c, nil
}

// page trims rows, fetched with LIMIT p.Limit+1, to p.Limit and returns the cursor of the
// next page ("" when this is the last).
func (k keyset[R, C]) page(rows []R, p page.Request) ([]R, string) {
	if len(rows) <= p.Limit {
		return rows, ""
	}
	rows = rows[:p.Limit]
	return rows, page.Encode(k.key(rows[len(rows)-1]))
}

// list runs one page of a list: fetch reads at most limit rows after the position (nil: from
// the start), and each row kept is turned into its domain value.
func list[R, C, D any](k keyset[R, C], p page.Request, fetch func(after *C, limit int) ([]R, error),
	domain func(R) D) ([]D, string, error) {
	after, err := k.after(p)
	if err != nil {
		return nil, "", err
	}
	rows, err := fetch(after, p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	rows, next := k.page(rows, p)
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = domain(r)
	}
	return out, next, nil
}
