package conversation

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/template"
)

func TestPersonalize(t *testing.T) {
	m := RecipientMember{FirstName: "Maria", LastName: "Silva", CustomFields: map[string]any{"city": "Lisbon", "orders": float64(3),
		"vip": true, "address": map[string]any{"street": "Rua"}}}
	for _, tc := range []struct{ name, in, want string }{
		{"names", "Hi {{contact.first_name}} {{contact.last_name}}", "Hi Maria Silva"},
		{"spaces inside the braces", "Hi {{ contact.first_name }}", "Hi Maria"},
		{"custom string, number, boolean", "{{contact.custom_fields.city}} {{contact.custom_fields.orders}} {{contact.custom_fields.vip}}", "Lisbon 3 true"},
		{"missing field is empty, then trimmed", "{{contact.custom_fields.plan}} Hi", "Hi"},
		{"an object field is empty", "[{{contact.custom_fields.address}}]", "[]"},
		{"no variables", "We open at 10", "We open at 10"},
		{"other braces stay", "{{1}} and {{contact}}", "{{1}} and {{contact}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Personalize(Draft{Type: TypeText, Text: tc.in}, m).Text; got != tc.want {
				t.Errorf("Personalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	ref := &TemplateRef{Name: "hours", Language: "en", Variables: []string{"{{contact.first_name}}", "{{contact.custom_fields.plan}}"}}
	d := Personalize(Draft{Type: TypeTemplate, Template: ref}, m)
	if got := strings.Join(d.Template.Variables, "|"); got != "Maria|" {
		t.Errorf("template variables = %q", got)
	}
	if ref.Variables[0] != "{{contact.first_name}}" {
		t.Errorf("Personalize changed the broadcast's own template: %v", ref.Variables)
	}
}

func TestCheckVariables(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"{{contact.first_name}} {{contact.last_name}} {{contact.custom_fields.plan_2}}", true},
		{"{{contact.email}}", false},
		{"{{contact.custom_fields.}}", false},
		{"{{contact.}}", false},
		{"{{1}}", true},
	} {
		var errs errkind.Fields
		checkVariables("message.text", tc.in, &errs)
		if (len(errs) == 0) != tc.ok {
			t.Errorf("checkVariables(%q): %v, want ok %v", tc.in, errs, tc.ok)
		}
	}
}

// TestBillable is the dry run's pricing table: WhatsApp charges templates outside the window
// and marketing or authentication templates inside it; Viber what the rules call billable.
func TestBillable(t *testing.T) {
	utility, marketing := &template.Template{Category: "utility"}, &template.Template{Category: "marketing"}
	for _, tc := range []struct {
		name string
		t    rules.ChannelType
		tmpl *template.Template
		d    rules.Result
		want bool
	}{
		{"whatsapp text in window", rules.WhatsApp, nil, rules.Result{Decision: rules.Allowed}, false},
		{"whatsapp utility in window", rules.WhatsApp, utility, rules.Result{Decision: rules.Allowed}, false},
		{"whatsapp marketing in window", rules.WhatsApp, marketing, rules.Result{Decision: rules.Allowed}, true},
		{"whatsapp utility after window", rules.WhatsApp, utility, rules.Result{Decision: rules.TemplateRequired}, true},
		{"wechat template after window", rules.WeChat, utility, rules.Result{Decision: rules.TemplateRequired}, false},
		{"viber commercial terms", rules.Viber, nil, rules.Result{Decision: rules.Allowed, Billable: true}, true},
		{"viber free allowance", rules.Viber, nil, rules.Result{Decision: rules.Allowed, Initiated: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := billable(tc.t, tc.tmpl, tc.d); got != tc.want {
				t.Errorf("billable = %v, want %v", got, tc.want)
			}
		})
	}
}
