package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/switchboard/switchboard/pkg/app"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/seed"
	"github.com/switchboard/switchboard/pkg/workspace"
)

var seedChannelNames = map[rules.ChannelType]string{
	rules.WhatsApp: "WhatsApp", rules.Messenger: "Messenger", rules.Instagram: "Instagram", rules.Viber: "Viber",
	rules.WeChat: "WeChat", rules.Telegram: "Telegram", rules.LINE: "LINE", rules.Webchat: "Website chat",
	rules.SMS: "SMS", rules.Email: "Email", rules.Custom: "Custom",
}

// seedBatch is how many contacts one COPY transaction carries.
const seedBatch = 5000

type seedAgent struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type seedResult struct {
	WorkspaceID   string      `json:"workspace_id"`
	Contacts      int         `json:"contacts"`
	Identities    int         `json:"identities"`
	Messages      int         `json:"messages"`
	Events        int         `json:"events"`
	Agents        []seedAgent `json:"agents"`
	AgentPassword string      `json:"agent_password,omitempty"`
	Seconds       float64     `json:"seconds"`
}

func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flags("seed", "seed --workspace ID [--contacts N] [--messages-per-contact M] [--agents K]", stderr)
	wsID := fs.String("workspace", "", "id of an existing workspace (required; see bootstrap)")
	contacts := fs.Int("contacts", 1000, "contacts to create, each with its conversation")
	perContact := fs.Int("messages-per-contact", 5, "messages in each conversation")
	agents := fs.Int("agents", 5, "agents to create and spread conversations over")
	workers := fs.Int("workers", 2, "concurrent COPY transactions")
	seedValue := fs.Uint64("seed", 0, "random seed (0: a fresh one); the same seed repeats the data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ws, err := uuid.Parse(*wsID)
	if err != nil {
		fs.Usage()
		return errors.New("seed needs --workspace with a workspace id")
	}
	if *contacts < 0 || *perContact < 0 || *agents < 0 || *workers < 1 || *contacts > 10_000_000 || *perContact > 1000 || *agents > 1000 {
		return errors.New("seed: --contacts 0..10000000, --messages-per-contact 0..1000, --agents 0..1000, --workers >= 1")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	svc, err := app.NewServices(cfg, st, log, time.Now)
	if err != nil {
		return err
	}
	w, err := svc.Workspaces.Get(ctx, ws)
	if err != nil {
		return describe(err)
	}

	// Agents share one random password, printed once at the end.
	res := seedResult{WorkspaceID: ws.String(), Agents: []seedAgent{}}
	var agentIDs []uuid.UUID
	if *agents > 0 {
		b := make([]byte, 15)
		_, _ = rand.Read(b)
		res.AgentPassword = base64.RawURLEncoding.EncodeToString(b)
		tag := uuid.NewString()[:6]
		names := []string{"Ana Silva", "Ben Carter", "Chen Wei", "Dana Cohen", "Emeka Obi", "Fatima Zahra", "Giulia Rossi",
			"Hiro Tanaka", "Inés Ortega", "Jonas Berg", "Kavya Rao", "Lukas Novak"}
		for i := range *agents {
			name := names[i%len(names)]
			u, err := svc.Workspaces.CreateUser(ctx, ws, workspace.Actor{Role: workspace.RoleOwner}, workspace.NewUser{
				Email: fmt.Sprintf("agent%d.%s@seed.switchboard.test", i+1, tag), Name: name,
				Password: res.AgentPassword, Role: workspace.RoleAgent})
			if err != nil {
				return fmt.Errorf("create agent: %w", describe(err))
			}
			agentIDs = append(agentIDs, u.ID)
			res.Agents = append(res.Agents, seedAgent{ID: u.ID.String(), Email: u.Email, Name: u.Name})
		}
		fmt.Fprintf(stderr, "seed: %d agents\n", *agents)
	}

	// One channel per type: existing live ones are reused, missing ones made on the sandbox.
	chans := map[rules.ChannelType]uuid.UUID{}
	for cursor := ""; ; {
		list, next, err := svc.Channels.List(ctx, ws, channel.Filter{}, page.Request{Limit: page.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, ch := range list {
			if _, ok := chans[ch.Type]; !ok {
				chans[ch.Type] = ch.ID
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for _, t := range rules.Types() {
		if _, ok := chans[t]; ok {
			continue
		}
		ch, err := svc.Channels.Create(ctx, ws, channel.New{Type: string(t), Name: seedChannelNames[t]})
		if err != nil {
			return fmt.Errorf("create %s channel: %w", t, describe(err))
		}
		chans[t] = ch.ID
	}

	offset, err := st.CountContacts(ctx, ws)
	if err != nil {
		return err
	}
	s := *seedValue
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	cats := w.Settings.ClosingNoteCategories
	if len(cats) == 0 {
		cats = seed.DefaultCategories()
	}
	gen, err := seed.NewGenerator(seed.Plan{Workspace: ws, Channels: chans, Agents: agentIDs, Categories: cats,
		UnassignOnClose: w.Settings.UnassignOnClose, Offset: offset, MessagesPerContact: *perContact,
		ClosedShare: 0.4, AssignedShare: 0.75, Now: time.Now(), Seed: s})
	if err != nil {
		return err
	}

	var done, ids, msgs, events atomic.Int64
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(*workers)
	for from := 0; from < *contacts; from += seedBatch {
		to := min(from+seedBatch, *contacts)
		g.Go(func() error {
			b := gen.Batch(from, to)
			if err := st.LoadSeed(gctx, b); err != nil {
				return err
			}
			n := done.Add(int64(len(b.Contacts)))
			ids.Add(int64(len(b.Identities)))
			m := msgs.Add(int64(len(b.Messages)))
			events.Add(int64(len(b.Events)))
			mu.Lock()
			fmt.Fprintf(stderr, "seed: %d/%d contacts, %d messages (%.1fs)\n", n, *contacts, m, time.Since(start).Seconds())
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seed: vacuuming and analyzing the tables (%.1fs)\n", time.Since(start).Seconds())
	if err := st.VacuumAnalyze(ctx); err != nil {
		return err
	}
	res.Contacts, res.Identities, res.Messages, res.Events = int(done.Load()), int(ids.Load()), int(msgs.Load()), int(events.Load())
	res.Seconds = float64(time.Since(start).Milliseconds()) / 1000
	fmt.Fprintf(stderr, "seed: done in %.1fs\n", res.Seconds)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
