package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/secret"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// env is one test's database with a workspace, and the services deliveries need.
type env struct {
	url      string
	q        *job.Queue
	st       *store.Store
	ws       uuid.UUID
	channels *channel.Service
	convs    *conversation.Service
	logs     *syncBuffer
	log      *slog.Logger
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	url := storetest.URL(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	q, err := job.NewQueue(log)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), url, 8, q, time.Now)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	w, _, err := workspace.NewService(st, nil, nil, time.Now).Bootstrap(context.Background(), "Acme",
		workspace.NewUser{Email: "owner-" + uuid.NewString()[:8] + "@example.com", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{url: url, q: q, st: st, ws: w.ID, channels: channel.NewService(st, box, channel.Destinations{ProviderOverride: true, WebhookLoopback: true}, time.Now), convs: conversation.NewService(st, time.Now),
		logs: logs, log: log}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	return e
}

// channel connects a channel on provider with config.
func (e *env) channel(t *testing.T, typ, prov string, config map[string]any) channel.Channel {
	t.Helper()
	ch, err := e.channels.Create(context.Background(), e.ws, channel.New{Type: typ, Name: typ + " " + prov, Provider: &prov, Config: config})
	if err != nil {
		t.Fatalf("create %s channel on %s: %v", typ, prov, err)
	}
	return ch
}

// customer makes a contact write in on the channel, so it has an identity and a conversation.
func (e *env) customer(t *testing.T, ch channel.Channel, identifier string) conversation.Ingested {
	t.Helper()
	in, _, err := e.convs.Ingest(context.Background(), e.ws, ch.ID, conversation.InboundMessage{Identifier: identifier, Text: "hello"})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return in
}

// outgoing describes a message to queue.
type outgoing struct {
	Type        string
	Text        string
	Tag         string
	Template    *conversation.TemplateRef
	Attachments []conversation.Attachment
}

// queue stores a queued outgoing message to the customer and enqueues its delivery in the
// same transaction, as the send path does.
func (e *env) queue(t testing.TB, to conversation.Ingested, m outgoing) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	if m.Type == "" {
		m.Type = "text"
	}
	var tag *string
	if m.Tag != "" {
		tag = &m.Tag
	}
	jsonOrNil := func(v any) any {
		if v == nil {
			return nil
		}
		b, _ := json.Marshal(v)
		if string(b) == "null" {
			return nil
		}
		return string(b)
	}
	tx, err := e.st.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	now := time.Now().UTC()
	_, err = tx.Exec(ctx, `
INSERT INTO messages (workspace_id, id, conversation_id, contact_id, channel_id, identity_id, direction, type, text,
                      template, attachments, tag, sender_kind, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'outgoing', $7, $8, $9, $10, $11, 'system', 'queued', $12, $12)`,
		e.ws, id, to.Conversation.ID, to.Contact.ID, to.Message.ChannelID, to.Message.IdentityID, m.Type, m.Text,
		jsonOrNil(m.Template), jsonOrNil(m.Attachments), tag, now)
	if err != nil {
		t.Fatalf("insert message: %v", err)
	}
	if err := e.q.InsertTx(ctx, tx, dispatch.Args{WorkspaceID: e.ws, MessageID: id}, nil); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return id
}

// fast is a delivery process's configuration for tests: quick polls and retries.
func fast(c dispatch.Config, jc job.Config) (dispatch.Config, job.Config) {
	if c.Workers == 0 {
		c.Workers = 4
	}
	jc.FetchPollInterval = 100 * time.Millisecond
	jc.FetchCooldown = 20 * time.Millisecond
	if jc.RetryBase == 0 {
		jc.RetryBase = 20 * time.Millisecond
	}
	jc.RetryMax = time.Second
	c.SendTimeout = cmpDur(c.SendTimeout, 5*time.Second)
	jc.TestOnly = true
	c.WebhookAllowLoopback = true
	c.ProviderAllowLoopback = true // fake provider APIs (api_base) listen on loopback
	return c, jc
}

func cmpDur(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

// deliverer builds a delivery process on st, one "process" of the env's database: a dispatcher
// and the job home that runs its workers. The caller starts it.
func (e *env) deliverer(t *testing.T, st *store.Store, c dispatch.Config, jc job.Config) *job.Home {
	t.Helper()
	c, jc = fast(c, jc)
	h := job.NewHome(st.Pool, jc, e.log)
	if err := dispatch.New(c, st, e.channels, dispatch.Media{}, e.log, time.Now).Register(h); err != nil {
		t.Fatalf("register delivery worker: %v", err)
	}
	return h
}

// dispatcher starts a delivery process on the env's store; it stops with the test.
func (e *env) dispatcher(t *testing.T, c dispatch.Config, jc job.Config) *job.Home {
	t.Helper()
	return e.dispatcherOn(t, e.st, c, jc)
}

// dispatcherOn starts a delivery process on another store (another "process") of the same
// database.
func (e *env) dispatcherOn(t *testing.T, st *store.Store, c dispatch.Config, jc job.Config) *job.Home {
	t.Helper()
	h := e.deliverer(t, st, c, jc)
	if err := h.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Stop(ctx)
	})
	return h
}

// message reads a message back.
func (e *env) message(t testing.TB, id uuid.UUID) conversation.Message {
	t.Helper()
	var m struct {
		Status            string
		ProviderMessageID *string
		ErrorCode         *string
		ErrorMessage      *string
		Attempts          int
		LastAttemptAt     *time.Time
	}
	err := e.st.Pool.QueryRow(context.Background(), `SELECT status, provider_message_id, error_code, error_message, attempts, last_attempt_at
FROM messages WHERE workspace_id = $1 AND id = $2`, e.ws, id).Scan(&m.Status, &m.ProviderMessageID, &m.ErrorCode, &m.ErrorMessage, &m.Attempts, &m.LastAttemptAt)
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	return conversation.Message{ID: id, Status: conversation.MessageStatus(m.Status), ProviderMessageID: m.ProviderMessageID,
		ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage, Attempts: m.Attempts, LastAttemptAt: m.LastAttemptAt}
}

// waitStatus waits until the message has the status, failing after timeout.
func (e *env) waitStatus(t testing.TB, id uuid.UUID, want conversation.MessageStatus, timeout time.Duration) conversation.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := e.message(t, id)
		if m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s is %s after %s, want %s (attempts %d, error %v)", id, m.Status, timeout, want, m.Attempts, deref(m.ErrorMessage))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
