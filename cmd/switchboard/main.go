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
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/pkg/app"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/job"
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
  serve                      serve the HTTP API and deliver messages (DELIVERY_WORKERS; 0: API only)
  worker                     deliver messages only (no API; /healthz, /readyz, /metrics on HTTP_ADDR)
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
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "worker":
		return worker(ctx, args[1:], getenv, stderr)
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

// openStore opens the store with the job queue it enqueues through. log receives River's
// warnings.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	queue, err := job.NewQueue(log)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns, queue, time.Now)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flags("serve", "serve [flags]", stderr)
	printURL := fs.Bool("print-url", false, "print the API's and the docs' URLs on stdout once listening (make run)")
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
	p, err := start(ctx, cfg, stderr,
		"SECRETS_KEY is not set: channels with provider secrets cannot be created (sandbox channels work)")
	if err != nil {
		return err
	}
	defer p.st.Close()
	closing := make(chan struct{})
	srv := app.NewServer(cfg, api.FromServices(cfg, p.svc, p.log, version, closing))
	// Event streams never end by themselves: Shutdown closes them first, so draining waits only
	// for ordinary requests (clients reconnect elsewhere with Last-Event-ID).
	srv.RegisterOnShutdown(func() { close(closing) })
	announce := func(string) {}
	if *printURL {
		announce = func(u string) { fmt.Fprintf(stdout, "API: %s  docs: %s/docs\n", u, u) }
	}
	return p.runUntilStopped(ctx, cfg, srv, "serving", "draining in-flight requests and deliveries", announce)
}

// process is what serve and worker run besides their HTTP server.
type process struct {
	log  *slog.Logger
	st   *store.Store
	svc  app.Services
	jobs *job.Home
}

// start is what serve and worker share before they differ, built top-down: the collector's
// settings, the logger, the job queue and the store, the services, and the started background
// work (deliveries, the webhook outbox, the event listener, periodic jobs). noSecrets is the
// warning logged when SECRETS_KEY is unset. The caller closes the store.
func start(ctx context.Context, cfg config.Config, stderr io.Writer, noSecrets string) (process, error) {
	tuneGC(cfg)
	log := newLogger(cfg.LogLevel, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return process{}, err
	}
	if len(cfg.SecretsKey) == 0 {
		log.Warn(noSecrets)
	}
	svc, err := app.NewServices(cfg, st, log, time.Now)
	var jobs *job.Home
	if err == nil {
		jobs, err = app.NewJobs(cfg, svc, log)
	}
	if err == nil {
		err = jobs.Start(ctx)
	}
	if err != nil {
		st.Close()
		return process{}, err
	}
	return process{log: log, st: st, svc: svc, jobs: jobs}, nil
}

// tuneGC applies GOGC and GOMEMLIMIT with the defaults of config.Vars (the runtime has
// already applied them when they are set). The server's live heap is small, tens of
// megabytes, so at Go's default GOGC=100 a loaded server collected many times a second: the
// collector took about 10 % of the CPU of the read scenarios. At 400 it collects a quarter as
// often, and the soft memory limit makes it collect sooner rather than let the heap outgrow
// a small machine.
func tuneGC(cfg config.Config) {
	debug.SetGCPercent(cfg.GCPercent)
	debug.SetMemoryLimit(cfg.MemoryLimit)
}

// runUntilStopped serves srv until ctx ends (SIGTERM) or the listener fails, then drains srv and
// the background work together within the shutdown timeout: in-flight requests finish, running
// deliveries finish or are released for another process, then the webhook outbox and the event
// listener stop. Once the listener is bound, announce receives the URL it answers on.
func (p process) runUntilStopped(ctx context.Context, cfg config.Config, srv *http.Server, started, draining string, announce func(url string)) error {
	errc := make(chan error, 1)
	go func() {
		addr := srv.Addr
		if addr == "" {
			addr = ":http" // as ListenAndServe
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errc <- err
			return
		}
		u := localURL(addr, ln.Addr())
		p.log.Info(started, "addr", cfg.HTTPAddr, "url", u, "version", version, "delivery_workers", cfg.DeliveryWorkers)
		announce(u)
		errc <- srv.Serve(ln)
	}()
	var listenErr error
	select {
	case err := <-errc:
		listenErr = fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	p.log.Info("shutting down: "+draining, "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var httpErr, jobsErr error
	wg.Go(func() { httpErr = srv.Shutdown(sctx) })
	wg.Go(func() {
		if jobsErr = p.jobs.Stop(sctx); jobsErr == nil {
			p.log.Info("background work stopped")
		}
	})
	wg.Wait()
	if err := errors.Join(listenErr, httpErr, jobsErr); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	p.log.Info("stopped")
	return nil
}

// worker runs delivery workers (and subscriber webhooks) without the API: scale delivery
// apart from HTTP. It serves /healthz, /readyz and /metrics on HTTP_ADDR for probes and
// scraping.
func worker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flags("worker", "worker", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if cfg.DeliveryWorkers < 1 {
		return errors.New("DELIVERY_WORKERS: worker needs at least 1")
	}
	p, err := start(ctx, cfg, stderr, "SECRETS_KEY is not set: only sandbox channels can be delivered")
	if err != nil {
		return err
	}
	defer p.st.Close()
	// Subscriber webhooks, the event listener and periodic jobs run here too, as in serve.
	srv := app.NewServer(cfg, app.NewOps(p.svc))
	return p.runUntilStopped(ctx, cfg, srv, "delivering", "letting in-flight deliveries finish", func(string) {})
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
	st, err := openStore(ctx, cfg, newLogger(cfg.LogLevel, stderr))
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
	st, err := openStore(ctx, cfg, newLogger(cfg.LogLevel, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	ws, owner, err := workspace.NewService(st, nil, nil, time.Now).Bootstrap(ctx, *wsName,
		workspace.NewUser{Email: *email, Name: *name, Password: *pass})
	if err != nil {
		return describe(err)
	}
	p := auth.Principal{WorkspaceID: ws.ID, Kind: auth.KindUser, UserID: owner.ID, Role: owner.Role, Scopes: auth.AllScopes}
	// The key is made after the workspace commits; JWT settings don't matter for keys.
	_, key, err := auth.NewService(st, auth.Config{}, time.Now).CreateKey(ctx, p, auth.NewKey{Name: "bootstrap", Scopes: auth.AllScopes})
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

// localURL is the base URL to reach a server listening on addr (HTTP_ADDR) from this machine:
// the configured host when it names one (127.0.0.1, [::1], a hostname), localhost when addr
// binds every interface (":8080", "0.0.0.0:8080", "[::]:8080"), and the port actually bound
// (so ":0" shows the port the kernel chose).
func localURL(addr string, bound net.Addr) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	if tcp, ok := bound.(*net.TCPAddr); ok && tcp.Port != 0 {
		port = strconv.Itoa(tcp.Port)
	}
	if port == "" {
		port = "80"
	}
	return "http://" + net.JoinHostPort(host, port)
}
