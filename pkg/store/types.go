package store

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
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

// nullJSON is a nullable jsonb column kept as raw JSON.
type nullJSON []byte

func (j *nullJSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append(nullJSON(nil), v...)
	case string:
		*j = nullJSON(v)
	default:
		return fmt.Errorf("scan jsonb: unexpected %T", src)
	}
	return nil
}

func (j nullJSON) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	return string(j), nil
}

// toNullJSON encodes v (a pointer) as JSON; nil stays NULL.
func toNullJSON[T any](v *T) (nullJSON, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode jsonb: %w", err)
	}
	return b, nil
}

// fromNullJSON decodes a nullable jsonb column; NULL gives nil.
func fromNullJSON[T any](j nullJSON) *T {
	if j == nil {
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(j, v); err != nil {
		return nil
	}
	return v
}

// GormDataType tells gorm the column type, since it cannot infer one for a named slice.
func (textArray) GormDataType() string { return "text[]" }

// GormDataType tells gorm the column type.
func (jsonObject) GormDataType() string { return "jsonb" }

// registerTypes speeds up the scans and arguments of a connection's type map.
//
// uuid.UUID goes in and out of uuid columns as its 16 bytes. Left to itself pgx takes
// uuid.UUID's driver.Valuer and sql.Scanner: every argument was formatted as text (after a
// failed binary attempt that built an error) and every scanned id parsed back from text, a
// visible share of the inbox's CPU.
//
// A nullable text, timestamptz or integer column scans into *string, *time.Time or *int32 without reflection
// (pgx's generic plan for a pointer to a pointer allocates through reflect for each value).
func registerTypes(m *pgtype.Map) {
	t := &pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}}
	m.RegisterType(t)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: t}})
	m.TryWrapScanPlanFuncs = append([]pgtype.TryWrapScanPlanFunc{tryNullable}, m.TryWrapScanPlanFuncs...)
}

// tryNullable plans a scan into **string, **time.Time or **int32: NULL leaves nil, a value is
// scanned into a new string or time.Time by the plan for that type.
func tryNullable(target any) (pgtype.WrappedScanPlanNextSetter, any, bool) {
	switch target.(type) {
	case **string:
		return &nullable[string]{}, new(string), true
	case **time.Time:
		return &nullable[time.Time]{}, new(time.Time), true
	case **int32:
		return &nullable[int32]{}, new(int32), true
	}
	return nil, nil, false
}

type nullable[T any] struct {
	next pgtype.ScanPlan
	vals slab[T]
}

func (p *nullable[T]) SetNext(next pgtype.ScanPlan) { p.next = next }

func (p *nullable[T]) Scan(src []byte, dst any) error {
	ptr := dst.(**T)
	if src == nil {
		*ptr = nil
		return nil
	}
	v := p.vals.next()
	if err := p.next.Scan(src, v); err != nil {
		return err
	}
	*ptr = v
	return nil
}

// slab hands out new values a few at a time: a scan plan lives for one query's column, and
// a nullable column of an inbox page otherwise cost one allocation per row (a quarter of
// the page's allocations). The values handed out are never handed out again; one that is
// kept keeps its few neighbours alive with it.
type slab[T any] struct {
	free []T
	size int // of the last allocation: 4, doubling up to 32
}

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.size = min(max(2*s.size, 4), 32)
		s.free = make([]T, s.size)
	}
	v := &s.free[0]
	s.free = s.free[1:]
	return v
}

// uuidCodec is pgx's uuid codec with binary plans for uuid.UUID and *uuid.UUID.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(uuid.UUID); ok && format == pgtype.BinaryFormatCode {
		return encodeUUID{}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if format == pgtype.BinaryFormatCode {
		switch target.(type) {
		case *uuid.UUID:
			return scanUUID{}
		case **uuid.UUID:
			return &scanNullUUID{}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type encodeUUID struct{}

func (encodeUUID) Encode(value any, buf []byte) ([]byte, error) {
	u := value.(uuid.UUID)
	return append(buf, u[:]...), nil
}

type scanUUID struct{}

func (scanUUID) Scan(src []byte, dst any) error {
	if src == nil {
		return errors.New("scan uuid: NULL into uuid.UUID")
	}
	if len(src) != 16 {
		return fmt.Errorf("scan uuid: %d bytes", len(src))
	}
	copy(dst.(*uuid.UUID)[:], src)
	return nil
}

// scanNullUUID is a scan plan, for one query's column, of a nullable uuid.
type scanNullUUID struct{ vals slab[uuid.UUID] }

func (p *scanNullUUID) Scan(src []byte, dst any) error {
	ptr := dst.(**uuid.UUID)
	if src == nil {
		*ptr = nil
		return nil
	}
	if len(src) != 16 {
		return fmt.Errorf("scan uuid: %d bytes", len(src))
	}
	u := p.vals.next()
	copy(u[:], src)
	*ptr = u
	return nil
}
