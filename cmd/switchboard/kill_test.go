package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/app"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/job"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// execEnv makes the test binary act as the switchboard binary with the given arguments, so a
// test can run a real `switchboard worker` process and kill it.
const execEnv = "SWITCHBOARD_TEST_EXEC"

func TestMain(m *testing.M) {
	if args := os.Getenv(execEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		err := run(ctx, strings.Fields(args), os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKill9Worker: a `switchboard worker` process is killed with SIGKILL while its provider
// calls are in flight (the provider already took those messages). Another process rescues its
// jobs; every message is delivered, none lost, none twice.
func TestKill9Worker(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River's leader lease of the killed process to expire")
	}
	ctx := context.Background()
	dbURL := storetest.URL(t)
	const secretsKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	mediaStore := "file://" + t.TempDir()
	env := map[string]string{"DATABASE_URL": dbURL, "SECRETS_KEY": secretsKey, "PROVIDER_API_BASE_OVERRIDE": "true", "DELIVERY_WORKERS": "0",
		"MEDIA_STORE": mediaStore}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	st, err := openStore(ctx, cfg, log) // this process enqueues only: it starts no jobs
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := app.NewServices(cfg, st, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ws, owner, err := svc.Workspaces.Bootstrap(ctx, "Acme", workspace.NewUser{Email: "kill@example.com", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	fake := pt.NewLINE(t)
	fake.Hold()
	prov := "line"
	ch, err := svc.Channels.Create(ctx, ws.ID, channel.New{Type: "line", Name: "LINE", Provider: &prov,
		Config: map[string]any{"channel_access_token": "line-token", "channel_secret": "line-secret", "api_base": fake.URL}})
	if err != nil {
		t.Fatal(err)
	}
	in, _, err := svc.Conversations.Ingest(ctx, ws.ID, ch.ID, conversation.InboundMessage{Identifier: "Ukill9", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}

	// The worker process, on the real command.
	var out bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^$")
	// PROVIDER_API_BASE_OVERRIDE lets the worker reach the fake LINE API on loopback.
	child.Env = append(os.Environ(), execEnv+"=worker", "DATABASE_URL="+dbURL, "SECRETS_KEY="+secretsKey,
		"DELIVERY_WORKERS=4", "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=info", "PROVIDER_API_BASE_OVERRIDE=true",
		"MEDIA_STORE="+mediaStore)
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill() }()

	// Twenty sends through the rule-checked send path.
	by := conversation.Caller{Actor: conversation.Actor{Kind: conversation.ActorUser, ID: owner.ID}, User: &owner.ID}
	ids := make([]uuid.UUID, 20)
	for i := range ids {
		sent, _, err := svc.Sends.Send(ctx, ws.ID, in.Contact.ID, by, conversation.Draft{Type: conversation.TypeText, Text: fmt.Sprint("message ", i)}, nil)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		ids[i] = sent.Message.ID
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := fake.Calls()
		if n >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker made %d provider calls, want 4\n%s", n, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	fake.Release()

	// The survivor: its rescuer takes jobs running longer than 3 s once it leads, which it
	// can after the dead process's leader lease runs out.
	survivor := job.NewHome(st.Pool, job.Config{JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second,
		FetchPollInterval: 100 * time.Millisecond, RetryBase: 20 * time.Millisecond, TestOnly: true}, log)
	err = dispatch.New(dispatch.Config{Workers: 4, SendTimeout: time.Second,
		ProviderAllowLoopback: true}, // the fake LINE API is on loopback, as PROVIDER_API_BASE_OVERRIDE allows
		st, svc.Channels, dispatch.Media{Files: svc.Media, URLs: svc.MediaURLs}, log, time.Now).Register(survivor)
	if err != nil {
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
	deadline = time.Now().Add(90 * time.Second)
	for {
		var sent int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE id = ANY($1) AND status = 'sent'`, ids).Scan(&sent); err != nil {
			t.Fatal(err)
		}
		if sent == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages sent after the kill\nworker:\n%s\nsurvivor:\n%s", sent, len(ids), out.String(), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	delivered, _, conflicts := fake.Stats()
	for _, id := range ids {
		if delivered[id.String()] != 1 {
			t.Errorf("message %s reached the customer %d times", id, delivered[id.String()])
		}
	}
	if conflicts != 4 {
		t.Errorf("%d repeated retry keys, want 4 (the killed worker's calls, retried by the survivor)", conflicts)
	}
}
