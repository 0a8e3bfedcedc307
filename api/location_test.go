package api_test

import (
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestCreatedLocation: a 201 that makes a resource with a GET of its own names it in
// Location, and reading that address gives the same resource.
func TestCreatedLocation(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	var channel struct{ ID string }
	r := e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WhatsApp"}).Expect(t, http.StatusCreated)
	r.JSON(t, &channel)
	cases := []struct {
		name string
		r    *apitest.Response
	}{
		{"contact", e.Post(t, "/v1/contacts", w.OwnerToken, map[string]any{"first_name": "Maria"})},
		{"channel", r},
		{"template", e.Post(t, "/v1/channels/"+channel.ID+"/templates", w.OwnerToken, templateFields(nil))},
	}
	for _, tc := range cases {
		var made, read map[string]any
		tc.r.Expect(t, http.StatusCreated).JSON(t, &made)
		loc := tc.r.Header.Get("Location")
		if loc == "" {
			t.Fatalf("%s: 201 without Location", tc.name)
		}
		e.Get(t, loc, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &read)
		if read["id"] != made["id"] {
			t.Errorf("%s: Location %s reads %v, created %v", tc.name, loc, read["id"], made["id"])
		}
	}
}
