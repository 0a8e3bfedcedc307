package store

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// collect reads every row into a slice with room for n rows, each column into the field of T
// with its name, as pgx.RowToStructByName matches them: a field's db tag, else its name
// without regard to case or underscores (LastMessageAt is last_message_at); embedded structs
// lend their fields. Every column needs a field and every field a column, so a query's
// column list and its row struct cannot drift apart.
//
// Unlike pgx.RowToStructByName, the columns are matched and the destinations built once per
// query, not per row: the rows are scanned into one value, copied out (a []any of some
// twenty pointers per row was a visible share of the inbox's allocations). A field of a
// named slice or map type with a Scan method (textArray, jsonObject, nullJSON: gorm's
// column types) is scanned as its underlying type, with pgx's binary plan rather than
// through the text form its Scan reads.
// SQL NULL then reads as a nil slice or map, not the empty value its Scan makes: the
// columns of those types are NOT NULL.
func collect[T any](rows pgx.Rows, n int) ([]T, error) {
	defer rows.Close()
	if rows.FieldDescriptions() == nil {
		// A statement that failed has no columns: its error, not a column mismatch.
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var r, zero T
	dest, err := destinations(&r, rows.FieldDescriptions())
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, n)
	for rows.Next() {
		r = zero
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// collectOne reads the one row of rows as collect does; none is pgx.ErrNoRows (isNotFound).
func collectOne[T any](rows pgx.Rows) (T, error) {
	defer rows.Close()
	var r T
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return r, err
		}
		return r, pgx.ErrNoRows
	}
	dest, err := destinations(&r, rows.FieldDescriptions())
	if err != nil {
		return r, err
	}
	if err := rows.Scan(dest...); err != nil {
		return r, err
	}
	rows.Close()
	return r, rows.Err()
}

// destinations are the scan destinations of the columns in r's fields.
func destinations[T any](r *T, cols []pgconn.FieldDescription) ([]any, error) {
	paths, err := fieldPaths(reflect.TypeFor[T](), cols)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(r).Elem()
	dest := make([]any, len(paths))
	for i, p := range paths {
		f := v.FieldByIndex(p.index).Addr()
		if p.as != nil {
			f = f.Convert(p.as)
		}
		dest[i] = f.Interface()
	}
	return dest, nil
}

// fieldPath is where a column goes: the field's index path, and the pointer type it is
// scanned as when not its own (see collect).
type fieldPath struct {
	index []int
	as    reflect.Type
}

// columnSets caches, per row struct type, the field paths of each column list it was read
// with (a *[]columnSet), so a query costs a comparison of names, not a new match.
var columnSets sync.Map

type columnSet struct {
	names []string
	paths []fieldPath
}

func fieldPaths(t reflect.Type, cols []pgconn.FieldDescription) ([]fieldPath, error) {
	cached, _ := columnSets.Load(t)
	if sets, ok := cached.(*[]columnSet); ok {
		for _, s := range *sets {
			if sameNames(s.names, cols) {
				return s.paths, nil
			}
		}
	}
	s, err := matchColumns(t, cols)
	if err != nil {
		return nil, err
	}
	// Copy on write: readers never see a slice being appended to.
	for {
		var next []columnSet
		if sets, ok := cached.(*[]columnSet); ok {
			next = append(next, *sets...)
		}
		next = append(next, s)
		if cached == nil {
			if _, loaded := columnSets.LoadOrStore(t, &next); !loaded {
				return s.paths, nil
			}
		} else if columnSets.CompareAndSwap(t, cached, &next) {
			return s.paths, nil
		}
		cached, _ = columnSets.Load(t)
	}
}

func sameNames(names []string, cols []pgconn.FieldDescription) bool {
	if len(names) != len(cols) {
		return false
	}
	for i, c := range cols {
		if names[i] != c.Name {
			return false
		}
	}
	return true
}

var scannerType = reflect.TypeFor[sql.Scanner]()

// matchColumns finds each column's field of t, and checks that every field has a column.
func matchColumns(t reflect.Type, cols []pgconn.FieldDescription) (columnSet, error) {
	s := columnSet{names: make([]string, len(cols)), paths: make([]fieldPath, len(cols))}
	for i, c := range cols {
		s.names[i] = c.Name
	}
	seen := make([]bool, len(cols))
	var missing []string
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			at := append(append([]int(nil), index...), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, at)
				continue
			}
			tag, tagged := f.Tag.Lookup("db")
			if !f.IsExported() || tag == "-" {
				continue
			}
			name := strings.ReplaceAll(f.Name, "_", "")
			if tagged {
				name = tag
			}
			col := -1
			for k, c := range cols {
				if !seen[k] && (tagged && strings.EqualFold(c.Name, name) || !tagged && strings.EqualFold(strings.ReplaceAll(c.Name, "_", ""), name)) {
					col = k
					break
				}
			}
			if col < 0 {
				missing = append(missing, f.Name)
				continue
			}
			seen[col] = true
			p := fieldPath{index: at}
			if k := f.Type.Kind(); f.Type.Name() != "" && (k == reflect.Slice || k == reflect.Map) && reflect.PointerTo(f.Type).Implements(scannerType) {
				p.as = reflect.PointerTo(underlying(f.Type))
			}
			s.paths[col] = p
		}
	}
	walk(t, nil)
	for k, ok := range seen {
		if !ok {
			return columnSet{}, fmt.Errorf("scan into %s: no field for column %s", t, cols[k].Name)
		}
	}
	if len(missing) > 0 {
		return columnSet{}, fmt.Errorf("scan into %s: no column for %s", t, strings.Join(missing, ", "))
	}
	return s, nil
}

// underlying is the unnamed type of a named slice or map type.
func underlying(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Slice {
		return reflect.SliceOf(t.Elem())
	}
	return reflect.MapOf(t.Key(), t.Elem())
}
