package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/label"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/secret"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/subscription"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// TestRoundTrips holds the send and ingest paths to their round trips to PostgreSQL, counted
// from the service call down (River's statements, the delivery job's insert among them, are
// left out): each costs latency under a lock, and the batches in pgxTx and lazyTx exist to
// keep them few.
func TestRoundTrips(t *testing.T) {
	st, w, owner, channels := acme(t)
	ctx := context.Background()
	ch, err := channels.Create(ctx, w.ID, channel.New{Type: "telegram", Name: "TG"})
	if err != nil {
		t.Fatal(err)
	}
	convs := conversation.NewService(st, time.Now)
	sends := conversation.NewSendService(st, convs, time.Now, conversation.SendConfig{})
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
	// A snooze whose instant has passed, for the wake-up.
	late := "Cy"
	due, err := contacts.Create(ctx, w.ID, contact.Fields{FirstName: &late})
	if err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(time.Minute)
	if _, err := convs.Snooze(ctx, w.ID, due.Conversation.ID, by, &soon); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE conversations SET snoozed_until = now() - interval '1 second' WHERE workspace_id = $1 AND id = $2`,
		w.ID, due.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	labels := label.NewService(st, time.Now)
	refund, err := labels.Create(ctx, w.ID, label.Fields{Name: ptr("Refund"), Color: ptr("#e5484d")})
	note := func(ctx context.Context, idem *conversation.Idempotency) (conversation.Message, error) {
		text := "internal"
		out, _, err := convs.CreateNote(ctx, w.ID, known.Conversation.ID, by, conversation.NoteDraft{Text: &text,
			Mentions: []uuid.UUID{owner.ID}}, idem)
		return out.Note, err
	}
	edited, err := note(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	doomed, err := note(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two WhatsApp customers whose windows close within the hour: their expiring alerts are due.
	wa, err := channels.Create(ctx, w.ID, channel.New{Type: "whatsapp", Name: "WA"})
	if err != nil {
		t.Fatal(err)
	}
	closing := time.Now().Add(-23*time.Hour - 30*time.Minute)
	for _, phone := range []string{"+14155550160", "+14155550161"} {
		if _, _, err := convs.Ingest(ctx, w.ID, wa.ID, conversation.InboundMessage{Identifier: phone, Text: "hi", ReceivedAt: &closing}); err != nil {
			t.Fatal(err)
		}
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
		// No read before the lock: BEGIN with the lock; the writes; the events with COMMIT.
		{"snooze", func(ctx context.Context) error {
			until := time.Now().Add(time.Hour)
			_, err := convs.Snooze(ctx, w.ID, other.Conversation.ID, by, &until)
			return err
		}, 3},
		{"close", func(ctx context.Context) error {
			_, err := convs.Close(ctx, w.ID, other.Conversation.ID, by, nil, nil)
			return err
		}, 4},
		// BEGIN with the lock of the due snoozes; their writes and events with COMMIT.
		{"wake due snoozes", func(ctx context.Context) error {
			woke, err := convs.WakeDue(ctx, 100)
			if err == nil && woke != 1 {
				err = fmt.Errorf("woke %d, want 1", woke)
			}
			return err
		}, 2},
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
		// BEGIN with the lock and the labels; the writes and the event with COMMIT. The same
		// set again writes nothing: COMMIT alone.
		{"set labels", func(ctx context.Context) error {
			_, err := labels.SetConversationLabels(ctx, w.ID, known.Conversation.ID, []uuid.UUID{refund.ID})
			return err
		}, 2},
		{"set the same labels", func(ctx context.Context) error {
			_, err := labels.SetConversationLabels(ctx, w.ID, known.Conversation.ID, []uuid.UUID{refund.ID})
			return err
		}, 2},
		// The page, then its rows' labels by the page's ids (pageLabels: cheaper than in the
		// page's own statement, which is planned on every execution).
		{"inbox by label", func(ctx context.Context) error {
			_, _, err := convs.List(ctx, w.ID, conversation.Filter{LabelID: &refund.ID}, page.Request{Limit: 25})
			return err
		}, 2},
		// The window sort's first part alone fills the page: the page, then its extras. On the
		// page where it ends, the second part is read after it.
		{"inbox by reply window", func(ctx context.Context) error {
			_, _, err := convs.List(ctx, w.ID, conversation.Filter{Sort: conversation.SortWindowClosing}, page.Request{Limit: 1})
			return err
		}, 2},
		{"inbox by reply window, where the open windows end", func(ctx context.Context) error {
			_, _, err := convs.List(ctx, w.ID, conversation.Filter{Sort: conversation.SortWindowClosing}, page.Request{Limit: 3})
			return err
		}, 3},
		// BEGIN with the lock of the due alerts; the next alerts and the events with COMMIT.
		{"window alerts", func(ctx context.Context) error {
			n, err := convs.AlertDue(ctx, 100)
			if err == nil && n != 2 {
				err = fmt.Errorf("handled %d, want 2", n)
			}
			return err
		}, 2},
		// An empty page has no labels to read.
		{"empty inbox page", func(ctx context.Context) error {
			f := conversation.Filter{Status: string(conversation.StatusSnoozed), Inbox: conversation.InboxMine, Me: uuid.New()}
			_, _, err := convs.List(ctx, w.ID, f, page.Request{Limit: 25})
			return err
		}, 1},
		// Notes: BEGIN with the conversation's lock (and the note's) and the mentioned users;
		// the writes, the latest mentions and the events with COMMIT.
		{"note", func(ctx context.Context) error { _, err := note(ctx, nil); return err }, 2},
		{"note with an Idempotency-Key", func(ctx context.Context) error { _, err := note(ctx, idempotency("note-1")); return err }, 3},
		{"edit note", func(ctx context.Context) error {
			n++
			text := fmt.Sprint("edit ", n)
			_, err := convs.EditNote(ctx, w.ID, edited.ID, by, conversation.NoteDraft{Text: &text, Mentions: []uuid.UUID{}})
			return err
		}, 2},
		{"delete note", func(ctx context.Context) error { return convs.DeleteNote(ctx, w.ID, doomed.ID, by) }, 2},
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

// acme is a fresh store with a workspace, Acme, its owner, and the channel service.
func acme(t *testing.T) (*store.Store, workspace.Workspace, workspace.User, *channel.Service) {
	t.Helper()
	st := storetest.New(t, time.Now)
	w, owner, err := workspace.NewService(st, nil, nil, time.Now).Bootstrap(context.Background(), "Acme",
		workspace.NewUser{Email: "owner@example.com", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return st, w, owner, channel.NewService(st, box, channel.Destinations{}, time.Now)
}

func ptr(s string) *string { return &s }

// idempotency is an Idempotency-Key; the store stores the send's answer with it.
func idempotency(key string) *conversation.Idempotency {
	return &conversation.Idempotency{Key: key, Hash: []byte("hash")}
}

// TestAdminRoundTrips holds the store's other pgx transactions to their round trips: BEGIN
// goes with the first batch (the lock, or the lock and what it guards), COMMIT with the
// writes; the webhook outbox's claim and finish need no answer in between, so they are one.
func TestAdminRoundTrips(t *testing.T) {
	st, w, owner, channels := acme(t)
	ctx := context.Background()
	used, err := channels.Create(ctx, w.ID, channel.New{Type: "telegram", Name: "Used"})
	if err != nil {
		t.Fatal(err)
	}
	unused, err := channels.Create(ctx, w.ID, channel.New{Type: "telegram", Name: "Unused"})
	if err != nil {
		t.Fatal(err)
	}
	convs := conversation.NewService(st, time.Now)
	if _, _, err := convs.Ingest(ctx, w.ID, used.ID, conversation.InboundMessage{Identifier: "1000", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	hook := subscription.Webhook{WorkspaceID: w.ID, ID: uuid.New(), URL: "https://hooks.example.com/x", Events: []string{"*"},
		Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(ctx, hook, []byte("sealed"), audit.On(audit.WebhookCreated, "webhook", hook.ID, nil)); err != nil {
		t.Fatal(err)
	}
	name := "Bea"
	if _, err := contact.NewService(st, time.Now).Create(ctx, w.ID, contact.Fields{FirstName: &name}); err != nil {
		t.Fatal(err)
	}
	sess := auth.Session{WorkspaceID: w.ID, ID: uuid.New(), UserID: owner.ID, CreatedAt: now}
	refresh := func(s auth.Session) auth.RefreshToken {
		return auth.RefreshToken{WorkspaceID: s.WorkspaceID, ID: uuid.New(), SessionID: s.ID, Hash: []byte(uuid.NewString()),
			ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	}
	first := refresh(sess)
	if err := st.CreateSession(ctx, sess, first, owner.PasswordHash, audit.On(audit.LoginSucceeded, "user", owner.ID, nil)); err != nil {
		t.Fatal(err)
	}
	member := func() workspace.User {
		u := workspace.User{WorkspaceID: w.ID, ID: uuid.New(), Email: uuid.NewString() + "@example.com", Name: "M",
			Role: workspace.RoleAgent, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(ctx, u, audit.On(audit.UserCreated, "user", u.ID, nil)); err != nil {
			t.Fatal(err)
		}
		return u
	}
	deleted := func(c channel.Channel, _ bool) audit.Record {
		return audit.On(audit.ChannelDeleted, "channel", c.ID, nil)
	}
	var jobs []subscription.Job
	tests := []struct {
		name string
		run  func(ctx context.Context) error
		want int
	}{
		{"create workspace", func(ctx context.Context) error {
			ws := workspace.Workspace{ID: uuid.New(), Name: "Other", CreatedAt: now, UpdatedAt: now}
			return st.CreateWorkspace(ctx, ws, workspace.User{WorkspaceID: ws.ID, ID: uuid.New(), Email: "other@example.com",
				Name: "O", Role: workspace.RoleOwner, PasswordHash: "x", CreatedAt: now, UpdatedAt: now})
		}, 2},
		{"update workspace", func(ctx context.Context) error {
			_, err := st.UpdateWorkspace(ctx, w.ID, func(*workspace.Workspace) ([]audit.Record, error) { return nil, nil })
			return err
		}, 2},
		{"update channel", func(ctx context.Context) error {
			_, err := st.UpdateChannel(ctx, w.ID, used.ID, func(c *channel.Channel) ([]audit.Record, error) {
				c.Name = "Renamed"
				return []audit.Record{audit.On(audit.ChannelUpdated, "channel", c.ID, nil)}, nil
			})
			return err
		}, 2},
		{"archive channel", func(ctx context.Context) error {
			_, err := st.DeleteChannel(ctx, w.ID, used.ID, now, deleted)
			return err
		}, 2},
		{"delete channel", func(ctx context.Context) error {
			_, err := st.DeleteChannel(ctx, w.ID, unused.ID, now, deleted)
			return err
		}, 2},
		{"update user", func(ctx context.Context) error {
			_, err := st.UpdateUser(ctx, w.ID, owner.ID, func(*workspace.User, int) (workspace.EndSessions, []audit.Record, error) {
				return workspace.EndSessions{All: true, Except: sess.ID}, []audit.Record{audit.On(audit.UserPasswordChanged, "user", owner.ID, nil)}, nil
			})
			return err
		}, 2},
		{"delete user", func(ctx context.Context) error {
			u := member()
			return st.DeleteUser(ctx, w.ID, u.ID, func(u workspace.User, _ int) (audit.Record, error) {
				return audit.On(audit.UserDeleted, "user", u.ID, nil), nil
			})
		}, 2},
		{"rotate refresh token", func(ctx context.Context) error {
			_, err := st.RotateRefresh(ctx, w.ID, first.Hash, refresh)
			return err
		}, 2},
		// The sequencer numbers the events queued above and makes their webhook deliveries:
		// BEGIN, the lock, the move and COMMIT in one batch.
		{"number queued events", func(ctx context.Context) error {
			n, err := st.SequenceEvents(ctx)
			if err == nil && n == 0 {
				err = fmt.Errorf("no queued event numbered")
			}
			return err
		}, 1},
		{"claim deliveries", func(ctx context.Context) error {
			var err error
			jobs, err = st.ClaimDeliveries(ctx, subscription.Claim{Now: time.Now(), Lease: time.Minute, Limit: 10, PerWorkspace: 10, PerWebhook: 10})
			if err == nil && len(jobs) == 0 {
				err = fmt.Errorf("no delivery claimed")
			}
			return err
		}, 1},
		{"finish a delivery", func(ctx context.Context) error {
			return st.FinishDelivery(ctx, jobs[0], subscription.Outcome{Attempt: subscription.Attempt{Attempt: 1, At: now},
				Status: subscription.StatusDelivered})
		}, 1},
		{"fail a delivery", func(ctx context.Context) error {
			return st.FinishDelivery(ctx, jobs[0], subscription.Outcome{Attempt: subscription.Attempt{Attempt: 2, At: now},
				Status: subscription.StatusPending, NextAttemptAt: now.Add(time.Minute), DisableAfter: time.Hour})
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkRoundTrips(t, ctx, tc.run, tc.want) })
	}
}
