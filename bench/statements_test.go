package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// TestReadStatements records every read scenario's statements from a store on a small
// workspace, as a bench run does on the bench database, and checks that pgbench and EXPLAIN
// can take them: every argument can be written in, and PostgreSQL accepts the result.
func TestReadStatements(t *testing.T) {
	st := storetest.New(t, time.Now)
	ctx := context.Background()
	w, owner, err := workspace.NewService(st, nil, nil, time.Now).Bootstrap(ctx, "Bench",
		workspace.NewUser{Email: "owner@bench.test", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	session := uuid.Must(uuid.NewV7())
	if _, err := st.Pool.Exec(ctx, `INSERT INTO sessions (workspace_id, id, user_id) VALUES ($1, $2, $3)`, w.ID, session, owner.ID); err != nil {
		t.Fatal(err)
	}
	contacts := contact.NewService(st, time.Now)
	var ids []string
	for _, name := range []string{"Smith", "Smithers", "Jones"} {
		first, phone := "Ann", "+1415555"+map[string]string{"Smith": "0101", "Smithers": "0102", "Jones": "0103"}[name]
		c, err := contacts.Create(ctx, w.ID, contact.Fields{FirstName: &first, LastName: &name, Phone: &phone})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID.String())
	}
	convs := conversation.NewService(st, time.Now)
	f := &fixture{workspaceID: w.ID, agents: []agent{{id: owner.ID, session: session}}, phoneFragments: []string{"5550", "0102"},
		nameFragments: []string{"smit", "jo"}, contactIDs: ids, st: st, contacts: contacts, convs: convs,
		sends: conversation.NewSendService(st, convs, time.Now, conversation.SendConfig{}), recorded: map[string][]statement{}}
	// The labels, snoozes and mentions the inbox's filters read, made once: a second call
	// finds them and makes nothing.
	e := &env{st: st, pool: st.Pool}
	extras := func() (n int) {
		f.labels = nil
		if err := e.ensureExtras(ctx, f); err != nil {
			t.Fatal(err)
		}
		err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversation_labels) + (SELECT count(*) FROM messages WHERE type = 'note') +
    (SELECT count(*) FROM conversations WHERE status = 'snoozed')`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if made, again := extras(), extras(); made == 0 || again != made || len(f.labels) != 2 {
		t.Fatalf("extras: %d rows, then %d; %d labels", made, again, len(f.labels))
	}

	// The threads the thread scenarios read: customers on a WhatsApp channel who last wrote
	// three days ago, then ensureThreads twice: the second run finds the same conversations
	// and writes nothing.
	wa, err := channel.NewService(st, nil, channel.Destinations{}, time.Now).Create(ctx, w.ID, channel.New{Type: "whatsapp", Name: "WhatsApp"})
	if err != nil {
		t.Fatal(err)
	}
	f.inboundChannel = wa.ID.String()
	for n := range 5 {
		at := time.Now().Add(-72 * time.Hour)
		if _, _, err := convs.Ingest(ctx, w.ID, wa.ID, conversation.InboundMessage{Identifier: fmt.Sprintf("+1415555020%d", n),
			Text: "Hello", ReceivedAt: &at}); err != nil {
			t.Fatal(err)
		}
	}
	e.cfg.stateDir = t.TempDir()
	threads := func() (n int, attachments int) {
		if err := e.ensureThreads(ctx, f, 2); err != nil {
			t.Fatal(err)
		}
		err := st.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(jsonb_array_length(attachments)), 0) FROM messages
WHERE external_id LIKE 'bench:thread-%'`).Scan(&n, &attachments)
		if err != nil {
			t.Fatal(err)
		}
		return n, attachments
	}
	made, atts := threads()
	media, text := slices.Clone(f.mediaThreads), slices.Clone(f.textThreads)
	if again, _ := threads(); made == 0 || again != made || !slices.Equal(media, f.mediaThreads) || !slices.Equal(text, f.textThreads) {
		t.Fatalf("threads: %d messages, then %d; with media %v, then %v", made, again, media, f.mediaThreads)
	}
	if len(media) == 0 || len(text) == 0 || slices.ContainsFunc(media, func(id string) bool { return slices.Contains(text, id) }) {
		t.Fatalf("threads with media %v and text %v: want some of each, none in both", media, text)
	}
	// Every message of a media thread carries 1 to 3 files, each stored media with its blob.
	if want := len(media) * (1 + 2 + 3 + 1 + 2); atts != want {
		t.Errorf("%d attachments, want %d", atts, want)
	}
	page, _, err := convs.Messages(ctx, w.ID, uuid.MustParse(media[0]), firstPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page[:threadMessages] {
		if len(m.Attachments) == 0 || m.Attachments[0].MediaID == nil || m.Attachments[0].Status != conversation.AttachmentReady {
			t.Errorf("message %s of a media thread: attachments %+v, want stored media", m.ID, m.Attachments)
		}
	}

	lookups := 0
	for _, s := range scenarios {
		if s.reads == nil {
			continue
		}
		t.Run(s.id, func(t *testing.T) {
			for i := range 2 {
				sts := f.statements(s, i)
				if len(sts) < 2 || !strings.Contains(sts[0].sql, "FROM sessions") {
					t.Fatalf("variant %d: %d statements, want the session's and the request's", i, len(sts))
				}
				for k, x := range sts {
					if x.gset != "" {
						lookups++
						if k+1 == len(sts) || !strings.Contains(pgbenchStatement(sts[k+1:k+2]), ":"+x.gset) {
							t.Errorf("variant %d: statement %d sets :%s, which the next does not use", i, k, x.gset)
						}
					}
					if _, err := st.Pool.Exec(ctx, "EXPLAIN "+x.literal()); err != nil {
						t.Errorf("variant %d: statement %d with its arguments written in: %v\n%s", i, k, err, x.literal())
					}
					_ = pgbenchStatement([]statement{x})
				}
			}
		})
	}
	if lookups == 0 {
		t.Error("no inbox search built its page from the lookup's ids: the pgbench variable goes untested")
	}
}
