package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/switchboard/switchboard/pkg/app"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// TestKill9Broadcast is issue 16's acceptance 3: a `switchboard worker` process is killed with
// SIGKILL in the middle of a broadcast; another process's River rescues the job and the
// broadcast resumes. Every recipient ends with exactly one message (counted per contact in
// SQL) and the broadcast ends done.
func TestKill9Broadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River's leader lease of the killed process to expire")
	}
	ctx := context.Background()
	dbURL := storetest.URL(t)
	const secretsKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	mediaStore := "file://" + t.TempDir()
	env := map[string]string{"DATABASE_URL": dbURL, "SECRETS_KEY": secretsKey, "DELIVERY_WORKERS": "0", "MEDIA_STORE": mediaStore}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	st, err := openStore(ctx, cfg, log) // this process enqueues only until the survivor starts
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := app.NewServices(cfg, st, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ws, owner, err := svc.Workspaces.Bootstrap(ctx, "Acme", workspace.NewUser{Email: "broadcast@example.com", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	// Website chat has no window: every send is allowed, and the sandbox provider needs no
	// server (no delivery runs here anyway: the messages are counted in the database).
	ch, err := svc.Channels.Create(ctx, ws.ID, channel.New{Type: "webchat", Name: "Chat"})
	if err != nil {
		t.Fatal(err)
	}
	const recipients = 2000
	ids := make([]uuid.UUID, recipients)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range ids {
		g.Go(func() error {
			in, _, err := svc.Conversations.Ingest(ctx, ws.ID, ch.ID, conversation.InboundMessage{Identifier: fmt.Sprint("visitor-", i), Text: "hi"})
			ids[i] = in.Contact.ID
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	// The worker process, on the real command: it runs the broadcast (and delivers through the
	// sandbox, which changes no count).
	var out bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), execEnv+"=worker", "DATABASE_URL="+dbURL, "SECRETS_KEY="+secretsKey,
		"DELIVERY_WORKERS=1", "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=info", "MEDIA_STORE="+mediaStore)
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill() }()

	by := conversation.Caller{Actor: conversation.Actor{Kind: conversation.ActorUser, ID: owner.ID}, User: &owner.ID}
	b, _, _, err := svc.Broadcasts.Create(ctx, ws.ID, by, conversation.Broadcast{Name: "Kill", ChannelID: ch.ID,
		Audience: conversation.Audience{ContactIDs: ids},
		Message:  conversation.Draft{Type: conversation.TypeText, Text: "We open at 10, {{contact.first_name}}"}}, conversation.BroadcastOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := func() (n int) {
		const q = `SELECT count(*) FROM broadcast_recipients WHERE workspace_id = $1 AND broadcast_id = $2 AND status <> 'pending'`
		if err := st.Pool.QueryRow(ctx, q, ws.ID, b.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for done() < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("the worker sent to %d recipients, want 100\n%s", done(), out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	atKill := done()
	if atKill >= recipients {
		t.Fatalf("the broadcast finished before the kill (%d recipients): nothing to resume", atKill)
	}
	t.Logf("killed the worker with %d of %d recipients sent", atKill, recipients)

	// The survivor: its rescuer takes jobs running longer than 11 s once it leads, which it
	// can after the dead process's leader lease runs out. Its runs send for half of the 10 s
	// job timeout each: a shared machine may take seconds over a group of recipients.
	survivor := job.NewHome(st.Pool, job.Config{JobTimeout: 10 * time.Second, RescueAfter: 11 * time.Second,
		FetchPollInterval: 100 * time.Millisecond, RetryBase: 20 * time.Millisecond, TestOnly: true}, log)
	if err := job.AddBroadcasts(survivor, 1, svc.Broadcasts); err != nil {
		t.Fatal(err)
	}
	if err := survivor.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = survivor.Stop(sctx)
	}()
	deadline = time.Now().Add(180 * time.Second)
	for {
		got, err := svc.Broadcasts.Get(ctx, ws.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == conversation.BroadcastDone {
			if got.Counts.Sent != recipients || got.Counts.Pending() != 0 {
				t.Fatalf("done with counts %+v", got.Counts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast %s after the kill, %d of %d sent\nworker:\n%s\nsurvivor:\n%s", got.Status, done(), recipients, out.String(), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Exactly one message per recipient: none lost, none twice.
	var contacts, messages, wrong int
	const q = `
SELECT count(*), coalesce(sum(n), 0), count(*) FILTER (WHERE n <> 1)
FROM (SELECT contact_id, count(*) AS n FROM messages
      WHERE workspace_id = $1 AND channel_id = $2 AND direction = 'outgoing' GROUP BY contact_id) m`
	if err := st.Pool.QueryRow(ctx, q, ws.ID, ch.ID).Scan(&contacts, &messages, &wrong); err != nil {
		t.Fatal(err)
	}
	if contacts != recipients || messages != recipients || wrong != 0 {
		t.Fatalf("%d contacts got %d messages, %d of them not exactly one; want %d each once", contacts, messages, wrong, recipients)
	}
	var mismatched int
	const joined = `
SELECT count(*) FROM broadcast_recipients r LEFT JOIN messages m ON m.workspace_id = r.workspace_id AND m.id = r.message_id
WHERE r.workspace_id = $1 AND r.broadcast_id = $2 AND (r.status <> 'sent' OR m.contact_id IS DISTINCT FROM r.contact_id)`
	if err := st.Pool.QueryRow(ctx, joined, ws.ID, b.ID).Scan(&mismatched); err != nil {
		t.Fatal(err)
	}
	if mismatched != 0 {
		t.Fatalf("%d recipients not sent, or whose message_id is not their message", mismatched)
	}
}
