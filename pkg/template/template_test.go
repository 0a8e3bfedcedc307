package template

import (
	"testing"

	"github.com/switchboard/switchboard/pkg/errkind"
)

func TestPlaceholders(t *testing.T) {
	cases := []struct {
		name string
		body string
		n    int
		bad  bool
	}{
		{"none", "Hello there", 0, false},
		{"one", "Hi {{1}}", 1, false},
		{"repeated", "Hi {{1}}, yes {{1}}", 1, false},
		{"spaces inside", "Hi {{ 1 }} and {{2}}", 2, false},
		{"out of order", "{{2}} then {{1}}", 2, false},
		{"gap", "Hi {{1}} and {{3}}", 0, true},
		{"starts at two", "Hi {{2}}", 0, true},
		{"zero", "Hi {{0}}", 0, true},
		{"leading zero", "Hi {{01}}", 0, true},
		{"named", "Hi {{name}}", 0, true},
		{"empty", "Hi {{}}", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, msg := Placeholders(tc.body)
			if (msg != "") != tc.bad || n != tc.n {
				t.Fatalf("Placeholders(%q) = %d, %q; want %d, bad=%v", tc.body, n, msg, tc.n, tc.bad)
			}
		})
	}
}

func TestRender(t *testing.T) {
	tpl := Template{Name: "order_update", Body: "Hi {{1}}, order {{2}} ships {{ 2 }}."}
	cases := []struct {
		name string
		vars []string
		want string
		bad  bool
	}{
		{"fills every placeholder", []string{"Ana", "#42"}, "Hi Ana, order #42 ships #42.", false},
		{"too few", []string{"Ana"}, "", true},
		{"too many", []string{"Ana", "#42", "x"}, "", true},
		{"empty value", []string{"Ana", " "}, "", true},
		{"values are not re-expanded", []string{"{{2}}", "x"}, "Hi {{2}}, order x ships x.", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tpl.Render(tc.vars)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("Render(%q) = %q, %v; want %q, bad=%v", tc.vars, got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestFieldsValidation(t *testing.T) {
	str := func(s string) *string { return &s }
	valid := func() Fields {
		return Fields{Name: str("order_update"), Language: str("en_US"), Category: str("utility"), Status: str("approved"), Body: str("Hi {{1}}")}
	}
	cases := []struct {
		name   string
		change func(*Fields)
		field  string
	}{
		{"valid", func(*Fields) {}, ""},
		{"upper-case name", func(f *Fields) { f.Name = str("Order") }, "name"},
		{"bad language", func(f *Fields) { f.Language = str("english") }, "language"},
		{"bad category", func(f *Fields) { f.Category = str("promo") }, "category"},
		{"bad status", func(f *Fields) { f.Status = str("live") }, "status"},
		{"gap in body", func(f *Fields) { f.Body = str("{{1}} {{3}}") }, "body"},
		{"empty body", func(f *Fields) { f.Body = str("  ") }, "body"},
		{"bad button", func(f *Fields) { f.Buttons = &[]Button{{Type: "url", Text: "Go", Value: "ftp://x"}} }, "buttons[0].value"},
		{"unknown button type", func(f *Fields) { f.Buttons = &[]Button{{Type: "call", Text: "Go"}} }, "buttons[0].type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := valid()
			tc.change(&f)
			var tpl Template
			err := f.apply(&tpl)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid fields refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error on %s", tc.field)
			}
			if !containsField(err, tc.field) {
				t.Fatalf("error %v does not name %s", err, tc.field)
			}
		})
	}
}

func containsField(err error, field string) bool {
	e, ok := errkind.As(err)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
