// Command switchboard serves the Switchboard API and administers its database.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/pkg/app"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
		}
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: switchboard <command> [flags]

Commands:
  serve                      serve the HTTP API
  migrate up|down|status     apply, roll back one, or list database migrations
  bootstrap                  create a workspace with its owner and an all-scope API key; prints JSON
  seed                       fill a workspace with a realistic data set (contacts, conversations, messages)
  version                    print the version

Run "switchboard <command> --help" for a command's flags.

Environment:
`)
	for _, v := range config.Vars {
		def := v.Default
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(w, "  %-28s %s Default: %s\n", v.Name, v.Description, def)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "bootstrap":
		return bootstrap(ctx, args[1:], getenv, stdout, stderr)
	case "seed":
		return seedCmd(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version)
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func flags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: switchboard %s\n\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nEnvironment: see switchboard --help (DATABASE_URL is always required).")
	}
	return fs
}

func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	return store.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns, time.Now)
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flags("serve", "serve [flags]", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if err := cfg.RequireServe(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, stderr)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	if len(cfg.SecretsKey) == 0 {
		log.Warn("SECRETS_KEY is not set: channels with provider secrets cannot be created (sandbox channels work)")
	}
	svc := app.NewServices(cfg, st, time.Now)
	closing := make(chan struct{})
	e := app.NewHTTP(cfg, st, svc, log, version, closing)
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	// Event streams never end by themselves: Shutdown closes them first, so draining waits only
	// for ordinary requests (clients reconnect elsewhere with Last-Event-ID).
	srv.RegisterOnShutdown(func() { close(closing) })
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workersDone := make(chan struct{})
	go func() { defer close(workersDone); app.RunWorkers(wctx, cfg, st, svc, log) }()
	defer func() { stopWorkers(); <-workersDone }()
	errc := make(chan error, 1)
	go func() {
		log.Info("serving", "addr", cfg.HTTPAddr, "version", version)
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flags("migrate", "migrate up|down|status", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("migrate needs one of up, down, status")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	switch fs.Arg(0) {
	case "up":
		return store.MigrateUp(ctx, st.SQL, stderr)
	case "down":
		return store.MigrateDown(ctx, st.SQL, stderr)
	case "status":
		s, err := store.MigrateStatus(ctx, st.SQL)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(s)
	}
	fs.Usage()
	return fmt.Errorf("unknown migrate command %q", fs.Arg(0))
}

func bootstrap(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flags("bootstrap", "bootstrap --workspace NAME --email EMAIL --password PASSWORD [--name NAME]", stderr)
	wsName := fs.String("workspace", "", "workspace name (required)")
	email := fs.String("email", "", "owner's login email (required)")
	pass := fs.String("password", "", "owner's password, at least 10 characters (required)")
	name := fs.String("name", "", "owner's display name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *wsName == "" || *email == "" || *pass == "" {
		fs.Usage()
		return errors.New("bootstrap needs --workspace, --email and --password")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, owner, err := workspace.NewService(st, time.Now).Bootstrap(ctx, *wsName,
		workspace.NewUser{Email: *email, Name: *name, Password: *pass})
	if err != nil {
		return describe(err)
	}
	p := auth.Principal{WorkspaceID: ws.ID, Kind: auth.KindUser, UserID: owner.ID, Role: owner.Role, Scopes: auth.AllScopes}
	// The key is made after the workspace commits; JWT settings don't matter for keys.
	_, key, err := auth.NewService(st, auth.Config{}, time.Now).CreateKey(ctx, p, "bootstrap", auth.AllScopes)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{
		"workspace_id": ws.ID.String(), "user_id": owner.ID.String(), "api_key": key,
	})
}

// describe turns a domain error into a line a person at a terminal can act on.
func describe(err error) error {
	if e, ok := errkind.As(err); ok {
		msg := e.Detail
		for _, f := range e.Fields {
			msg += fmt.Sprintf("; %s %s", f.Field, f.Message)
		}
		return fmt.Errorf("%s (%s)", strings.TrimSpace(msg), e.Code)
	}
	return err
}
