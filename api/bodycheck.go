package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Limits on free-form JSON (custom_fields, a channel's config and rule_options: any request
// field typed map[string]any, any or json.RawMessage). Each free-form value is stored and
// handed back to clients as it came; without a cap, custom_fields nested 5 000 levels deep
// were stored and broke common JSON parsers on every list and event that carried them.
const (
	// maxFreeFormDepth counts the objects and arrays on the deepest path, the field's own
	// object included: {"a": {"b": 1}} is 2 deep.
	maxFreeFormDepth = 8
	// maxFreeFormBytes is the size of the value encoded as compact JSON.
	maxFreeFormBytes = 16 * 1024
	// maxBodyProblems bounds the fields one answer names.
	maxBodyProblems = 20
)

// nulMessage is what a field holding U+0000 is told: PostgreSQL cannot store it in text.
const nulMessage = "must not contain the NUL character (U+0000)"

// errBodyNull is a request body that is the JSON literal null: it used to be read as {}.
var errBodyNull = errkind.Invalid(errkind.Field{Field: "(body)", Message: "must be a JSON object, not null"})

// checkBody holds a decoded request body to what the typed decode cannot see: no string (or
// object key) anywhere holds U+0000, which PostgreSQL refuses in text; no field is an explicit
// null unless the request type declares it nullable (the x-nullable extension, which the spec
// shows as nullable: true), since a null pointer would otherwise read as "absent" ({"scopes":
// null} once created a key with every scope); and free-form values stay within
// maxFreeFormDepth and maxFreeFormBytes. v is the body decoded into any (numbers as
// json.Number) and t the request type it was also decoded into.
//
// NUL characters answer 422 invalid_character, the rest 422 validation_failed; both name each
// offending field by its JSON path (template.variables[0], custom_fields.plan).
func checkBody(v any, t reflect.Type) error {
	if v == nil {
		return errBodyNull
	}
	var c bodyChecker
	c.typed(v, t, "")
	switch {
	case len(c.nul) > 0:
		e := errkind.Invalid(c.nul...)
		e.Code = "invalid_character"
		if len(c.nul) > 1 {
			e.Detail = "Some fields hold the NUL character (U+0000), which cannot be stored."
		}
		return e
	case len(c.invalid) > 0:
		return c.invalid.Err()
	}
	return nil
}

type bodyChecker struct {
	nul, invalid errkind.Fields
}

func (c *bodyChecker) add(list *errkind.Fields, field, message string) {
	if len(c.nul)+len(c.invalid) < maxBodyProblems {
		list.Add(field, message)
	}
}

// typed checks v against the Go type it was decoded into.
func (c *bodyChecker) typed(v any, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if freeForm(t) {
		c.freeForm(v, path)
		return
	}
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			c.add(&c.nul, fieldName(path), nulMessage)
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return // the typed decode already refused it
		}
		for i, e := range v {
			p := path + "[" + strconv.Itoa(i) + "]"
			if e == nil {
				c.add(&c.invalid, p, "must not be null")
				continue
			}
			c.typed(e, t.Elem(), p)
		}
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields := jsonFields(t)
			for _, k := range slices.Sorted(maps.Keys(v)) {
				e := v[k]
				f, ok := fields.lookup(k)
				if !ok {
					continue // the typed decode already refused unknown fields
				}
				p := joinPath(path, f.name)
				if e == nil {
					if !f.nullable {
						c.add(&c.invalid, p, "must not be null")
					}
					continue
				}
				c.typed(e, f.typ, p)
			}
		case reflect.Map:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				e := v[k]
				if strings.IndexByte(k, 0) >= 0 {
					c.add(&c.nul, fieldName(path), "keys "+nulMessage)
					continue
				}
				p := joinPath(path, k)
				if e == nil {
					c.add(&c.invalid, p, "must not be null")
					continue
				}
				c.typed(e, t.Elem(), p)
			}
		}
	}
}

// freeForm checks a free-form value: no NUL in any string or key, null allowed anywhere
// (config and rule_options use it to clear a setting), and the depth and size caps.
func (c *bodyChecker) freeForm(v any, path string) {
	tooDeep := false
	var walk func(v any, p string, depth int)
	walk = func(v any, p string, depth int) {
		switch v := v.(type) {
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				c.add(&c.nul, fieldName(p), nulMessage)
			}
		case []any:
			if depth+1 > maxFreeFormDepth {
				tooDeep = true
				return
			}
			for i, e := range v {
				walk(e, p+"["+strconv.Itoa(i)+"]", depth+1)
			}
		case map[string]any:
			if depth+1 > maxFreeFormDepth {
				tooDeep = true
				return
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if strings.IndexByte(k, 0) >= 0 {
					c.add(&c.nul, fieldName(p), "keys "+nulMessage)
					continue
				}
				walk(v[k], joinPath(p, k), depth+1)
			}
		}
	}
	walk(v, path, 0)
	if tooDeep {
		c.add(&c.invalid, fieldName(path), fmt.Sprintf("must be nested at most %d levels deep", maxFreeFormDepth))
		return
	}
	if b, err := json.Marshal(v); err == nil && len(b) > maxFreeFormBytes {
		c.add(&c.invalid, fieldName(path), fmt.Sprintf("must be at most %d bytes of JSON", maxFreeFormBytes))
	}
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// freeForm reports whether a request field takes any JSON: an interface, a map of them, or
// raw JSON the handler reads itself.
func freeForm(t reflect.Type) bool {
	switch {
	case t == rawMessageType, t.Kind() == reflect.Interface:
		return true
	case t.Kind() == reflect.Map, t.Kind() == reflect.Slice:
		return t.Elem().Kind() == reflect.Interface
	}
	return false
}

// fieldName is the name a problem gives the path: the body itself has none.
func fieldName(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// joinPath appends an object key: plain keys with a dot, others quoted in brackets so the
// path stays unambiguous.
func joinPath(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	}
	return path + "." + key
}

// jsonField is one struct field as encoding/json sees it.
type jsonField struct {
	name     string
	typ      reflect.Type
	nullable bool
}

type fieldSet []jsonField

// lookup finds the field a key decodes into: the exact name, else a case-insensitive match,
// as encoding/json does.
func (fs fieldSet) lookup(key string) (jsonField, bool) {
	for _, f := range fs {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fs {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return jsonField{}, false
}

var fieldCache sync.Map // reflect.Type → fieldSet

// jsonFields lists a struct's JSON fields, embedded structs' included. A field is nullable
// when its extensions tag holds x-nullable: the same tag puts nullable: true in the spec.
func jsonFields(t reflect.Type) fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(fieldSet)
	}
	var fs fieldSet
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				fs = append(fs, jsonFields(et)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		nullable := false
		for _, ext := range strings.Split(sf.Tag.Get("extensions"), ",") {
			if ext == "x-nullable" {
				nullable = true
			}
		}
		fs = append(fs, jsonField{name: name, typ: sf.Type, nullable: nullable})
	}
	fieldCache.Store(t, fs)
	return fs
}
