package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestWorkspacesAreIsolated checks that no request in workspace B reads or changes A's data,
// with B's user token and B's API key alike.
func TestWorkspacesAreIsolated(t *testing.T) {
	e := apitest.New(t)
	a := e.NewWorkspace(t, "A")
	b := e.NewWorkspace(t, "B")
	aContact := e.NewContact(t, a.OwnerToken, map[string]any{"first_name": "Alice", "email": "alice@a.example"})
	aAgent := e.NewUser(t, a, "agent")
	var aKey struct {
		ID string `json:"id"`
	}
	e.Post(t, "/v1/api-keys", a.OwnerToken, map[string]any{"name": "a"}).Expect(t, http.StatusCreated).JSON(t, &aKey)
	aMedia := upload(t, e, a.APIKey, "a.png", pngBytes)
	aChannel := newChannel(t, e, a.OwnerToken, "whatsapp")
	aCustomer := ingest(t, e, a.APIKey, aChannel, map[string]any{"identifier": "+16505550100", "text": "hi"}).Contact.ID
	later := map[string]any{"type": "text", "text": "later", "send_at": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)}
	aScheduled := schedule(t, e, a.OwnerToken, aCustomer, later)
	aBroadcast := createBroadcast(t, e, a.OwnerToken, map[string]any{"name": "A's", "channel_id": aChannel,
		"audience": map[string]any{"contact_ids": []string{aCustomer}}, "message": map[string]any{"type": "text", "text": "hi"},
		"send_at": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)})
	var aTeam, aCanned struct {
		ID string `json:"id"`
	}
	e.Post(t, "/v1/teams", a.OwnerToken, map[string]any{"name": "A team"}).Expect(t, http.StatusCreated).JSON(t, &aTeam)
	e.Post(t, "/v1/canned-responses", a.OwnerToken, map[string]any{"shortcut": "a", "title": "A", "text": "A"}).
		Expect(t, http.StatusCreated).JSON(t, &aCanned)

	bContact := e.NewContact(t, b.OwnerToken, map[string]any{"first_name": "Bob"})

	for _, token := range []struct{ name, value string }{{"user", b.OwnerToken}, {"api key", b.APIKey}} {
		t.Run(token.name, func(t *testing.T) {
			tok := token.value
			// A merge across workspaces: A's contact as {id} is unknown (404), as
			// from_contact_id it is no contact of B's (422), and nothing moves.
			e.Post(t, "/v1/contacts/"+aContact+"/merge", tok, map[string]any{"from_contact_id": bContact}).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
			e.Post(t, "/v1/contacts/"+bContact+"/merge", tok, map[string]any{"from_contact_id": aCustomer}).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			e.Get(t, "/v1/contacts/"+aContact, tok).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
			e.Patch(t, "/v1/contacts/"+aContact, tok, map[string]any{"first_name": "Mallory"}).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
			e.Delete(t, "/v1/contacts/"+aContact, tok).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
			e.Patch(t, "/v1/users/"+aAgent.ID, tok, map[string]any{"role": "manager"}).ExpectProblem(t, http.StatusNotFound, "user_not_found")
			e.Delete(t, "/v1/users/"+aAgent.ID, tok).ExpectProblem(t, http.StatusNotFound, "user_not_found")
			e.Delete(t, "/v1/api-keys/"+aKey.ID, tok).ExpectProblem(t, http.StatusNotFound, "api_key_not_found")
			e.Get(t, "/v1/media/"+aMedia.ID, tok).ExpectProblem(t, http.StatusNotFound, "media_not_found")
			e.Get(t, "/v1/teams/"+aTeam.ID, tok).ExpectProblem(t, http.StatusNotFound, "team_not_found")
			e.Put(t, "/v1/teams/"+aTeam.ID+"/members", tok, map[string]any{"user_ids": []string{}}).ExpectProblem(t, http.StatusNotFound, "team_not_found")
			e.Delete(t, "/v1/teams/"+aTeam.ID, tok).ExpectProblem(t, http.StatusNotFound, "team_not_found")
			e.Get(t, "/v1/canned-responses/"+aCanned.ID, tok).ExpectProblem(t, http.StatusNotFound, "canned_response_not_found")
			e.Delete(t, "/v1/canned-responses/"+aCanned.ID, tok).ExpectProblem(t, http.StatusNotFound, "canned_response_not_found")
			if p := e.Get(t, "/v1/teams", tok).Expect(t, http.StatusOK).Map(t); len(p["data"].([]any)) != 0 {
				t.Errorf("B lists A's teams: %v", p["data"])
			}
			e.Get(t, "/v1/media/"+aMedia.ID+"/url", tok).ExpectProblem(t, http.StatusNotFound, "media_not_found")
			e.Get(t, "/v1/scheduled-messages/"+aScheduled.ID, tok).ExpectProblem(t, http.StatusNotFound, "scheduled_message_not_found")
			e.Delete(t, "/v1/scheduled-messages/"+aScheduled.ID, tok).ExpectProblem(t, http.StatusNotFound, "scheduled_message_not_found")
			e.Post(t, "/v1/contacts/"+aCustomer+"/messages", tok, later).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
			e.Get(t, "/v1/broadcasts/"+aBroadcast.ID, tok).ExpectProblem(t, http.StatusNotFound, "broadcast_not_found")
			e.Get(t, "/v1/broadcasts/"+aBroadcast.ID+"/recipients", tok).ExpectProblem(t, http.StatusNotFound, "broadcast_not_found")
			e.Post(t, "/v1/broadcasts/"+aBroadcast.ID+"/cancel", tok, nil).ExpectProblem(t, http.StatusNotFound, "broadcast_not_found")
			// A's channel and A's contacts are not B's: the channel is refused, the ids are no audience.
			e.Post(t, "/v1/broadcasts", tok, map[string]any{"name": "B's", "channel_id": aChannel, "audience": map[string]any{"contact_ids": []string{aCustomer}},
				"message": map[string]any{"type": "text", "text": "hi"}}).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			bChannel := newChannel(t, e, tok, "webchat")
			e.Post(t, "/v1/broadcasts", tok, map[string]any{"name": "B's", "channel_id": bChannel, "audience": map[string]any{"contact_ids": []string{aCustomer}},
				"message": map[string]any{"type": "text", "text": "hi"}}).ExpectProblem(t, http.StatusUnprocessableEntity, "audience_empty")
			var broadcasts struct {
				Data []broadcastBody `json:"data"`
			}
			e.Get(t, "/v1/broadcasts", tok).Expect(t, http.StatusOK).JSON(t, &broadcasts)
			if len(broadcasts.Data) != 0 {
				t.Errorf("B lists A's broadcasts: %+v", broadcasts.Data)
			}
			var scheduled struct {
				Data []scheduledBody `json:"data"`
			}
			e.Get(t, "/v1/scheduled-messages?contact_id="+aCustomer, tok).Expect(t, http.StatusOK).JSON(t, &scheduled)
			if len(scheduled.Data) != 0 {
				t.Errorf("B lists A's scheduled messages: %+v", scheduled.Data)
			}
			// B's signature of A's media names B's workspace: the media is not there.
			var su struct {
				URL string `json:"url"`
			}
			bMedia := upload(t, e, tok, "b.png", pngBytes)
			e.Get(t, "/v1/media/"+bMedia.ID+"/url", tok).Expect(t, http.StatusOK).JSON(t, &su)
			forged := strings.Replace(strings.TrimPrefix(su.URL, e.URL), bMedia.ID, aMedia.ID, 1)
			e.Get(t, forged, "").ExpectProblem(t, http.StatusForbidden, "url_signature_invalid")

			// Lists and searches show only B's own rows.
			var contacts contactPage
			e.Get(t, "/v1/contacts?q=alice", tok).Expect(t, http.StatusOK).JSON(t, &contacts)
			if len(contacts.Data) != 0 {
				t.Errorf("B's search sees A's contacts: %+v", contacts.Data)
			}
			users := e.Get(t, "/v1/users", tok).Expect(t, http.StatusOK).Map(t)
			for _, u := range users["data"].([]any) {
				if u.(map[string]any)["id"] == aAgent.ID || u.(map[string]any)["id"] == a.OwnerID {
					t.Errorf("B lists A's user %v", u)
				}
			}
			ws := e.Get(t, "/v1/workspace", tok).Expect(t, http.StatusOK).Map(t)
			if ws["id"] != b.ID {
				t.Errorf("B's workspace is %v", ws["id"])
			}
			// B's audit log holds none of A's changes, even filtered by A's actor.
			for _, en := range auditLog(t, e, tok, "") {
				if en.Resource.ID != nil && (*en.Resource.ID == aAgent.ID || *en.Resource.ID == aKey.ID || *en.Resource.ID == aChannel ||
					*en.Resource.ID == a.OwnerID || *en.Resource.ID == a.ID) {
					t.Errorf("B's audit log has A's %s", en.Action)
				}
			}
			if got := auditLog(t, e, tok, "actor_id="+a.OwnerID); len(got) != 0 {
				t.Errorf("B's audit log filtered by A's owner: %+v", got)
			}
		})
	}

	// The same email or phone may exist in both workspaces.
	e.NewContact(t, b.OwnerToken, map[string]any{"email": "alice@a.example"})

	// A's data is untouched.
	c := e.Get(t, "/v1/contacts/"+aContact, a.OwnerToken).Expect(t, http.StatusOK).Map(t)
	if c["first_name"] != "Alice" {
		t.Fatalf("A's contact changed: %v", c)
	}
	e.Get(t, "/v1/me", aAgent.Token).Expect(t, http.StatusOK)
	e.Get(t, "/v1/media/"+aMedia.ID, a.APIKey).Expect(t, http.StatusOK)
	e.Get(t, "/v1/contacts/"+aCustomer, a.OwnerToken).Expect(t, http.StatusOK) // not merged into B's
}
