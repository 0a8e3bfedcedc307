package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
)

// pgTypes decodes PostgreSQL's text forms of arrays for database/sql scans.
var pgTypes = pgtype.NewMap()

// textArray is a text[] column.
type textArray []string

func (a *textArray) Scan(src any) error {
	var out []string
	if err := pgTypes.SQLScanner(&out).Scan(src); err != nil {
		return fmt.Errorf("scan text[]: %w", err)
	}
	if out == nil {
		out = []string{}
	}
	*a = out
	return nil
}

// Value lets pgx encode the slice natively.
func (a textArray) Value() (driver.Value, error) {
	if a == nil {
		return []string{}, nil
	}
	return []string(a), nil
}

// jsonObject is a jsonb column holding an object.
type jsonObject map[string]any

func (o *jsonObject) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		*o = map[string]any{}
		return nil
	default:
		return fmt.Errorf("scan jsonb: unexpected %T", src)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("scan jsonb: %w", err)
	}
	*o = m
	return nil
}

func (o jsonObject) Value() (driver.Value, error) {
	if o == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(o))
	if err != nil {
		return nil, fmt.Errorf("encode jsonb: %w", err)
	}
	return string(b), nil
}

// GormDataType tells gorm the column type, since it cannot infer one for a named slice.
func (textArray) GormDataType() string { return "text[]" }

// GormDataType tells gorm the column type.
func (jsonObject) GormDataType() string { return "jsonb" }
