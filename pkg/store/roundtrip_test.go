package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/secret"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// TestRoundTrips holds the send and ingest paths to their round trips to PostgreSQL, counted
// from the service call down (River's statements, the delivery job's insert among them, are
// left out): each costs latency under a lock, and the batches in pgxTx and lazyTx exist to
// keep them few.
func TestRoundTrips(t *testing.T) {
	st := storetest.New(t, time.Now)
	ctx := context.Background()
	w, owner, err := workspace.NewService(st, nil, nil, time.Now).Bootstrap(ctx, "Acme",
		workspace.NewUser{Email: "owner@example.com", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := channel.NewService(st, box, channel.Destinations{}, time.Now).Create(ctx, w.ID, channel.New{Type: "telegram", Name: "TG"})
	if err != nil {
		t.Fatal(err)
	}
	convs := conversation.NewService(st, time.Now)
	sends := conversation.NewSendService(st, convs, time.Now)
	contacts := contact.NewService(st, time.Now)
	by := conversation.Caller{Actor: conversation.Actor{Kind: conversation.ActorUser, ID: owner.ID}, User: &owner.ID}
	ingest := func(ctx context.Context, identifier, external string) (conversation.Ingested, error) {
		in := conversation.InboundMessage{Identifier: identifier, Text: "hi"}
		if external != "" {
			in.ExternalID = &external
		}
		out, _, err := convs.Ingest(ctx, w.ID, ch.ID, in)
		return out, err
	}
	known, err := ingest(ctx, "1000", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest(ctx, "1000", "seen"); err != nil {
		t.Fatal(err)
	}
	send := func(ctx context.Context, channelID *uuid.UUID, idem *conversation.Idempotency) error {
		_, _, err := sends.Send(ctx, w.ID, known.Contact.ID, by, conversation.Draft{Type: conversation.TypeText, Text: "hello", ChannelID: channelID}, idem)
		return err
	}
	fresh := "Bea"
	other, err := contacts.Create(ctx, w.ID, contact.Fields{FirstName: &fresh})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	tests := []struct {
		name string
		run  func(ctx context.Context) error
		want int
	}{
		// BEGIN with the lock and read of everything the rules need; the writes with COMMIT.
		{"send", func(ctx context.Context) error { return send(ctx, &ch.ID, nil) }, 2},
		// BEGIN with the conversation's lock and the identities, before the channel is known.
		{"send on the default channel", func(ctx context.Context) error { return send(ctx, nil, nil) }, 3},
		// BEGIN with the key's claim, then as a send.
		{"send with an Idempotency-Key", func(ctx context.Context) error {
			n++
			return send(ctx, &ch.ID, idempotency(fmt.Sprint("key-", n)))
		}, 3},
		{"send replayed", func(ctx context.Context) error { return send(ctx, &ch.ID, idempotency("key-1")) }, 3},
		// The channel and the workspace; BEGIN with the identifier's lock and the lookups; the
		// writes and the answer; the events with COMMIT.
		{"ingest from a known identity", func(ctx context.Context) error { _, err := ingest(ctx, "1000", ""); return err }, 5},
		// The contact matched by nothing, the contact, identity and conversation written.
		{"ingest from a new contact", func(ctx context.Context) error {
			n++
			_, err := ingest(ctx, fmt.Sprint(2000+n), "")
			return err
		}, 6},
		// The lookups find the external id; the answer is read again with COMMIT.
		{"ingest replayed", func(ctx context.Context) error { _, err := ingest(ctx, "1000", "seen"); return err }, 4},
		// The lifecycle and contact writes: the service's read of the user or the workspace;
		// BEGIN with the lock (or the inserts); the writes; the events with COMMIT.
		{"assign", func(ctx context.Context) error {
			_, err := convs.Assign(ctx, w.ID, other.Conversation.ID, by, &owner.ID)
			return err
		}, 4},
		{"close", func(ctx context.Context) error {
			_, err := convs.Close(ctx, w.ID, other.Conversation.ID, by, nil, nil)
			return err
		}, 4},
		{"create contact", func(ctx context.Context) error {
			n++
			name := fmt.Sprint("Ann ", n)
			_, err := contacts.Create(ctx, w.ID, contact.Fields{FirstName: &name})
			return err
		}, 3},
		{"update contact", func(ctx context.Context) error {
			n++
			name := fmt.Sprint("Ann ", n)
			_, err := contacts.Update(ctx, w.ID, other.ID, contact.Fields{FirstName: &name})
			return err
		}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkRoundTrips(t, ctx, tc.run, tc.want) })
	}
}

// isRiver reports whether a statement is River's: its job inserts, and the queries it names
// in sqlc's way, such as the server version it reads on its first insert and the
// notification of an insert (at most one a second per queue).
func isRiver(sql string) bool {
	return strings.Contains(sql, "river_job") || strings.HasPrefix(strings.TrimSpace(sql), "-- name: ")
}

// checkRoundTrips runs run under a trace and checks that it took want round trips, River's
// left out.
func checkRoundTrips(t *testing.T, ctx context.Context, run func(ctx context.Context) error, want int) {
	t.Helper()
	tctx, trace := store.Traced(ctx)
	if err := run(tctx); err != nil {
		t.Fatal(err)
	}
	var trips []string
	for _, sts := range trace.RoundTrips() {
		var sqls []string
		river := true
		for _, s := range sts {
			sqls = append(sqls, strings.Join(strings.Fields(s.SQL), " "))
			river = river && isRiver(s.SQL)
		}
		if !river {
			trips = append(trips, strings.Join(sqls, "\n\t\t"))
		}
	}
	if len(trips) != want {
		t.Errorf("%d round trips, want %d:\n\t%s", len(trips), want, strings.Join(trips, "\n\t"))
	}
	t.Logf("%d round trips", len(trips))
}

// idempotency is an Idempotency-Key; the store stores the send's answer with it.
func idempotency(key string) *conversation.Idempotency {
	return &conversation.Idempotency{Key: key, Hash: []byte("hash")}
}
