// Command example walks through a conversation with the generated Go client
// (github.com/switchboard/switchboard/openapi/client): it creates an email channel and a
// contact, ingests a message from the contact on the channel, replies with an Idempotency-Key
// (and retries the reply, which the server replays), then reads the conversation's thread. It
// prints one JSON line per answer and exits with status 1 on any answer it did not expect.
//
//	SWITCHBOARD_URL=http://127.0.0.1:8080 SWITCHBOARD_API_KEY=sbk_... go run ./openapi/client/example
//
// The flags -url and -key take precedence over the environment (a key in a flag is visible to
// other users of the machine, so prefer the variable). The key needs the admin scope, which
// creating a channel takes and which covers the other steps.
// The channel has the built-in sandbox provider, so nothing is delivered outside the server,
// and each run makes a new channel and contact.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/openapi/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// line is one JSON line of output: a step, the status it answered and the resource.
type line struct {
	Step     string `json:"step"`
	Status   int    `json:"status"`
	Replayed bool   `json:"replayed,omitempty"`
	Data     any    `json:"data"`
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	base := fs.String("url", getenv("SWITCHBOARD_URL"), "the API's base URL, without /v1 (default $SWITCHBOARD_URL)")
	key := fs.String("key", getenv("SWITCHBOARD_API_KEY"), "an API key, sbk_... (default $SWITCHBOARD_API_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" || *key == "" {
		return errors.New("give the API's URL and an API key: -url and -key, or SWITCHBOARD_URL and SWITCHBOARD_API_KEY")
	}
	bearer := "Bearer " + *key
	api, err := client.NewClientWithResponses(strings.TrimSuffix(*base, "/"),
		client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", bearer)
			return nil
		}))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	emit := func(l line) error { return enc.Encode(l) }

	// An email channel on the sandbox provider: email has no messaging window, so a free-form
	// reply is allowed, and the sandbox delivers nothing outside the server. A request body
	// with one shape per case (a channel per type and provider, a message per type) is a union:
	// its From method sets the shape.
	var newChannel client.CreateChannelRequest
	if err := newChannel.FromCreateEmailSandboxChannelRequest(client.CreateEmailSandboxChannelRequest{
		Type: client.CreateEmailSandboxChannelRequestTypeEmail, Name: "Client example",
	}); err != nil {
		return fmt.Errorf("create channel: %w", err)
	}
	ch, err := api.CreateChannelWithResponse(ctx, newChannel)
	if err != nil {
		return fmt.Errorf("create channel: %w", err)
	}
	if ch.JSON201 == nil {
		return unexpected("create channel", ch.HTTPResponse, ch.Body)
	}
	if err := emit(line{"channel", ch.StatusCode(), false, ch.JSON201}); err != nil {
		return err
	}
	channelID, err := uuid.Parse(ch.JSON201.ID)
	if err != nil {
		return fmt.Errorf("channel id: %w", err)
	}

	// A random address, so that every run makes its own contact.
	email := "ada." + random() + "@example.com"
	ct, err := api.CreateContactWithResponse(ctx, client.ContactRequest{
		FirstName: ptr("Ada"), LastName: ptr("Lovelace"), Email: &email,
	})
	if err != nil {
		return fmt.Errorf("create contact: %w", err)
	}
	if ct.JSON201 == nil {
		return unexpected("create contact", ct.HTTPResponse, ct.Body)
	}
	if err := emit(line{"contact", ct.StatusCode(), false, ct.JSON201}); err != nil {
		return err
	}
	contactID, err := uuid.Parse(ct.JSON201.ID)
	if err != nil {
		return fmt.Errorf("contact id: %w", err)
	}

	// The contact writes in from their address: the new identity is matched to the contact by
	// its email, and the message opens a conversation.
	var inbound client.InboundMessageRequest
	if err := inbound.FromInboundTextMessageRequest(client.InboundTextMessageRequest{
		Identifier: email, Text: "Hello, where is my order?",
	}); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	in, err := api.IngestInboundMessageWithResponse(ctx, channelID, inbound)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if in.JSON201 == nil {
		return unexpected("ingest", in.HTTPResponse, in.Body)
	}
	if in.JSON201.Contact.ID != ct.JSON201.ID {
		return fmt.Errorf("ingest: the message went to contact %s, not %s", in.JSON201.Contact.ID, ct.JSON201.ID)
	}
	if err := emit(line{"inbound", in.StatusCode(), false, in.JSON201.Message}); err != nil {
		return err
	}
	conversationID, err := uuid.Parse(in.JSON201.Conversation.ID)
	if err != nil {
		return fmt.Errorf("conversation id: %w", err)
	}

	// The reply, sent twice with one Idempotency-Key as a client retrying after a lost answer
	// would: the second answer is the first one replayed, and only one message exists.
	idem := "example-" + random()
	var reply client.SendMessageRequest
	if err := reply.FromSendTextMessageRequest(client.SendTextMessageRequest{
		Type: client.SendTextMessageRequestTypeText, Text: "It left our warehouse this morning.", ChannelID: &channelID,
	}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	var sent string
	for attempt := range 2 {
		s, err := api.SendMessageWithResponse(ctx, contactID, &client.SendMessageParams{IdempotencyKey: &idem}, reply)
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		if s.JSON201 == nil {
			return unexpected("send", s.HTTPResponse, s.Body)
		}
		replayed := s.HTTPResponse.Header.Get("Idempotent-Replayed") == "true"
		if replayed != (attempt == 1) || (attempt == 1 && s.JSON201.Message.ID != sent) {
			return fmt.Errorf("send attempt %d: replayed %t, message %s (first %s)", attempt+1, replayed, s.JSON201.Message.ID, sent)
		}
		sent = s.JSON201.Message.ID
		if err := emit(line{"send", s.StatusCode(), replayed, s.JSON201.Message}); err != nil {
			return err
		}
	}

	// The thread, page by page.
	params := &client.ListConversationMessagesParams{}
	for {
		th, err := api.ListConversationMessagesWithResponse(ctx, conversationID, params)
		if err != nil {
			return fmt.Errorf("read thread: %w", err)
		}
		if th.JSON200 == nil {
			return unexpected("read thread", th.HTTPResponse, th.Body)
		}
		for _, m := range th.JSON200.Data {
			if err := emit(line{"thread", th.StatusCode(), false, m}); err != nil {
				return err
			}
		}
		if th.JSON200.NextCursor == nil {
			return nil
		}
		params.Cursor = th.JSON200.NextCursor
	}
}

// unexpected describes an answer the walk did not expect: its status and body (a problem,
// usually, whose code says what went wrong).
func unexpected(step string, r *http.Response, body []byte) error {
	return fmt.Errorf("%s: unexpected answer %d %s: %s", step, r.StatusCode, r.Header.Get("Content-Type"), strings.TrimSpace(string(body)))
}

func random() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ptr[T any](v T) *T { return &v }
