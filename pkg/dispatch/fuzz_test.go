package dispatch

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzWebhookEvent runs every provider's webhook parser over each input (seeds in
// testdata/fuzz/FuzzWebhookEvent: realistic webhooks of each provider, NUL characters, bytes
// that are not UTF-8, deep nesting) and makes what parses storable as the receiver does. The
// invariants: nothing panics or takes seconds, and after storable no string of the event holds a NUL
// character or bytes that are not UTF-8 (either made PostgreSQL refuse the message: 500, and
// the provider redelivered it forever).
func FuzzWebhookEvent(f *testing.F) {
	names := slices.Sorted(func(yield func(string) bool) {
		for name, a := range adapters {
			if a.parse != nil && !yield(name) {
				return
			}
		}
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range names {
			// A parser that hangs would only stall the fuzzer; crash instead, so the input is kept.
			stop := time.AfterFunc(5*time.Second, func() { panic(name + ": Parse took over 5 s") })
			ev, err := adapters[name].parse(body)
			stop.Stop()
			if err != nil {
				continue
			}
			storable(reflect.ValueOf(&ev).Elem())
			if path, ok := unstorable(reflect.ValueOf(ev), "Event"); ok {
				t.Fatalf("%s: %s is not storable after storable()", name, path)
			}
		}
	})
}

// unstorable finds a string PostgreSQL would refuse in text.
func unstorable(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		return path, !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0
	case reflect.Pointer:
		if !v.IsNil() {
			return unstorable(v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			if p, ok := unstorable(v.Index(i), path+"[]"); ok {
				return p, true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				if p, ok := unstorable(v.Field(i), path+"."+v.Type().Field(i).Name); ok {
					return p, true
				}
			}
		}
	}
	return "", false
}
