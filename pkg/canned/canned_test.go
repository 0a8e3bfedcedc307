package canned

import "testing"

func TestFill(t *testing.T) {
	vars := map[string]string{"contact.first_name": "Maria", "agent.name": "Ana"}
	cases := []struct{ name, text, want string }{
		{"both", "Hi {{contact.first_name}}, {{agent.name}} here.", "Hi Maria, Ana here."},
		{"spaces inside the braces", "Hi {{ contact.first_name }}!", "Hi Maria!"},
		{"unknown stays", "Hi {{contact.nickname}}", "Hi {{contact.nickname}}"},
		{"repeated", "{{agent.name}}/{{agent.name}}", "Ana/Ana"},
		{"none", "Thanks!", "Thanks!"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fill(tc.text, vars); got != tc.want {
				t.Errorf("Fill(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
