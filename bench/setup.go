package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/store"
)

// env is a prepared benchmark: a seeded database, a running server and the fixture.
type env struct {
	cfg    config
	state  state
	st     *store.Store  // the harness's own connections to the bench database
	pool   *pgxpool.Pool // st's
	server *server
	fix    *fixture
	routes map[string]bool // the server's operations, from its spec
}

// unavailable says why scenario s cannot run against this server and data, or "".
func (e *env) unavailable(s scenario) string {
	switch {
	case s.pending != "":
		return s.pending
	case !e.routes[s.needs]:
		return s.needs + " is not served by this build (not in its /openapi.json)"
	case s.open && slices.ContainsFunc(mixRoutes, func(r string) bool { return !e.routes[r] }):
		return "the mix needs " + strings.Join(mixRoutes, ", ") + ", not all served by this build (its /openapi.json)"
	case (s.id == "inbound" || s.open) && len(e.fix.inboundIdentifiers) == 0:
		return "the seed made no WhatsApp identities to write from"
	case s.spread && len(e.fix.spreadTargets) == 0:
		return "the send-spread workspaces were not made"
	case (s.id == "send" || s.open) && len(e.fix.sendTargets) == 0:
		return "the seed made no identities on channels without a window"
	case s.id == "inbox-label" && len(e.fix.labels) == 0:
		return "the bench database has no labels (its schema is older than migration 0014)"
	case s.threads && (len(e.fix.mediaThreads) == 0 || len(e.fix.textThreads) == 0):
		return "the bench workspace has no threads to read: ensureThreads writes them on the seeded WhatsApp channel, " +
			"into open conversations whose last message is older than two days"
	}
	return ""
}

func (e *env) close() {
	if e.server != nil {
		if err := e.server.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stop server:", err)
		}
	}
	if e.st != nil {
		e.st.Close()
	}
}

// state is what the harness keeps between runs in .data/bench/state.json (git-ignored).
type state struct {
	WorkspaceID string    `json:"workspace_id"`
	OwnerEmail  string    `json:"owner_email"`
	Password    string    `json:"password"` // the owner's
	AgentPass   string    `json:"agent_password"`
	APIKey      string    `json:"api_key"`
	JWTSecret   string    `json:"jwt_secret"`
	SecretsKey  string    `json:"secrets_key"`
	Agents      []member  `json:"agents"`
	Seed        *seedSize `json:"seed"` // set once seeding finished
	// Spread are the send-spread scenario's workspaces (ensureSpread).
	Spread []spreadWorkspace `json:"spread,omitempty"`
}

type member struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// seedSize identifies a seeded data set: a different size, or a different seed method, means
// seeding again.
type seedSize struct {
	Method             string `json:"method"`
	Contacts           int    `json:"contacts"`
	MessagesPerContact int    `json:"messages_per_contact"`
	Agents             int    `json:"agents"`
}

func (c config) statePath() string { return filepath.Join(c.stateDir, "state.json") }

func loadState(path string) (state, error) {
	var st state
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

func saveState(path string, st state) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(path, b, 0o600)
}

func randomString(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// prepare makes the bench database ready and starts the server: it reuses the seeded data
// when it matches the requested size and seeds afresh otherwise.
func prepare(ctx context.Context, cfg config) (*env, error) {
	want := seedSize{Method: seedCommand, Contacts: cfg.contacts, MessagesPerContact: cfg.messages, Agents: cfg.agents}
	st, err := loadState(cfg.statePath())
	if err != nil {
		return nil, err
	}
	reuse := st.Seed != nil && *st.Seed == want
	if st.Seed != nil && !reuse {
		logf("the bench data was seeded as %+v; seeding again as %+v", *st.Seed, want)
	}
	if reuse {
		reuse, err = workspaceExists(ctx, cfg.dbURL, st.WorkspaceID)
		if err != nil {
			return nil, err
		}
	}
	if !reuse {
		// Anything short of a finished seed of the wanted size is thrown away, so an
		// interrupted seed never leaves half a data set behind.
		if err := dropDatabase(ctx, cfg.dbURL); err != nil {
			return nil, err
		}
		st = state{Password: randomString(18), JWTSecret: randomString(48), SecretsKey: base64.StdEncoding.EncodeToString(randomBytes(32))}
		if err := saveState(cfg.statePath(), st); err != nil {
			return nil, err
		}
	}
	if err := createDatabase(ctx, cfg.dbURL); err != nil {
		return nil, err
	}
	// Always migrate: migrations merged since the seed apply to the kept data.
	if _, err := switchboard(ctx, cfg, "migrate", "up"); err != nil {
		return nil, err
	}

	e := &env{cfg: cfg, state: st}
	// The harness's own connections are a store's, so they run under the server's settings
	// (its plans are the server's) and the read scenarios' statements are the store's own
	// (see fixture.statements).
	q, err := job.NewQueue(slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	if e.st, err = store.Open(ctx, cfg.dbURL, 4, q, time.Now); err != nil {
		return nil, err
	}
	e.pool = e.st.Pool
	if e.server, err = startServer(ctx, cfg, st); err != nil {
		e.close()
		return nil, err
	}
	if !reuse {
		if err := e.seed(ctx, want); err != nil {
			e.close()
			return nil, err
		}
	}
	if e.fix, err = e.loadFixture(ctx); err != nil {
		e.close()
		return nil, err
	}
	if e.routes, err = e.server.routes(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// seed creates the bench workspace, its agents and the data set, and records it as done.
func (e *env) seed(ctx context.Context, want seedSize) error {
	start := time.Now()
	boot, err := e.bootstrap(ctx, "Switchboard bench", "owner@bench.switchboard.test", "Bench Owner")
	if err != nil {
		return err
	}
	e.state.WorkspaceID, e.state.APIKey, e.state.OwnerEmail = boot.WorkspaceID, boot.APIKey, "owner@bench.switchboard.test"

	if e.state.Agents, e.state.AgentPass, err = seedWithCommand(ctx, e.cfg, boot.WorkspaceID, want); err != nil {
		return err
	}
	e.state.Seed = &want
	logf("seeded in %s", time.Since(start).Round(time.Second))
	return saveState(e.cfg.statePath(), e.state)
}

// bootstrapped is what `switchboard bootstrap` prints.
type bootstrapped struct {
	WorkspaceID string `json:"workspace_id"`
	APIKey      string `json:"api_key"`
}

// bootstrap creates a workspace with its owner (the bench's password) and an all-scope API key
// through the switchboard binary.
func (e *env) bootstrap(ctx context.Context, workspace, email, owner string) (bootstrapped, error) {
	var boot bootstrapped
	out, err := switchboard(ctx, e.cfg, "bootstrap", "--workspace", workspace,
		"--email", email, "--name", owner, "--password", e.state.Password)
	if err != nil {
		return boot, err
	}
	if err := json.Unmarshal(out, &boot); err != nil {
		return boot, fmt.Errorf("bootstrap output %q: %w", out, err)
	}
	return boot, nil
}

// switchboard runs the switchboard binary against the bench database and returns its stdout.
func switchboard(ctx context.Context, cfg config, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, cfg.bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+cfg.dbURL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("switchboard %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// adminURL is the same server's postgres database, to create and drop the bench database.
func adminURL(dbURL string) (admin, name string, err error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", "", fmt.Errorf("BENCH_DATABASE_URL: %w", err)
	}
	name = strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", "", errors.New("BENCH_DATABASE_URL: names no database")
	}
	u.Path = "/postgres"
	return u.String(), name, nil
}

func createDatabase(ctx context.Context, dbURL string) error {
	admin, name, err := adminURL(dbURL)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to the postgres database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	logf("creating database %s", name)
	_, err = conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	return err
}

// dropDatabase drops the bench database. It refuses a database whose name does not say
// "bench", so a mistyped BENCH_DATABASE_URL cannot destroy real data.
func dropDatabase(ctx context.Context, dbURL string) error {
	admin, name, err := adminURL(dbURL)
	if err != nil {
		return err
	}
	if !strings.Contains(name, "bench") {
		return fmt.Errorf("refusing to drop database %q: a bench database's name contains \"bench\"", name)
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to the postgres database: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	return err
}

func workspaceExists(ctx context.Context, dbURL, id string) (bool, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		var pe interface{ SQLState() string }
		if errors.As(err, &pe) && pe.SQLState() == "3D000" { // invalid_catalog_name: no such database
			return false, nil
		}
		return false, err
	}
	defer conn.Close(ctx)
	var ok bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workspaces WHERE id = $1)`, id).Scan(&ok)
	if err != nil {
		return false, nil // no schema yet: nothing to reuse
	}
	return ok, nil
}

// server is a `switchboard serve` (or `worker`) process on a loopback port, started by the
// harness so it can read the process's memory and CPU, and kill it.
type server struct {
	name string // in the log's file name and the results
	cmd  *exec.Cmd
	addr string // 127.0.0.1:port
	base string
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done
	log  *os.File
}

// rateLimitEnv is the server's rate limit settings for BENCH_RATE_LIMIT. On, every request
// goes through the limiter (in process, or in Redis when REDIS_URL is set in the
// environment) with budgets no scenario reaches, so the run measures what the limiter costs,
// not refusals: 64 clients on 50 agents' tokens ask far more than the default 1200 a minute.
// Off, the server has none, as before the limits existed.
func rateLimitEnv(on bool) []string {
	if !on {
		return []string{"RATE_LIMITS=off"}
	}
	return []string{"RATE_LIMITS=on", "RATE_LIMIT_PER_MINUTE=1000000", "RATE_LIMIT_PER_ADDRESS=1000000", "SEND_RATE_PER_SECOND=100000"}
}

// startServer starts the measured `switchboard serve`, its log in the state directory's
// server.log.
func startServer(ctx context.Context, cfg config, st state) (*server, error) {
	return startProcess(ctx, cfg, st, "server", "serve", cfg.serverEnv...)
}

// mediaDir is the measured server's MEDIA_STORE directory, beside the bench's other state
// rather than the default .data/media; the harness stores the thread scenarios' files there
// too (ensureThreads).
func mediaDir(cfg config) (string, error) { return filepath.Abs(filepath.Join(cfg.stateDir, "media")) }

// startProcess starts `switchboard <command>` (serve or worker, both answer /readyz) on a
// free 127.0.0.1 port with the bench's settings and env, logging to <state dir>/<name>.log,
// and waits until it is ready.
func startProcess(ctx context.Context, cfg config, st state, name, command string, env ...string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()

	logPath := filepath.Join(cfg.stateDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	media, err := mediaDir(cfg)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.bin, command)
	cmd.Env = append(os.Environ(),
		"MEDIA_STORE=file://"+media,
		"DATABASE_URL="+cfg.dbURL,
		"HTTP_ADDR="+addr,
		"JWT_SECRET="+st.JWTSecret,
		"SECRETS_KEY="+st.SecretsKey,
		"ENABLE_PPROF=true",
		// Tokens are issued once per run; a full run outlasts the default 15 minutes.
		"ACCESS_TOKEN_TTL=12h",
	)
	if cfg.logLevel != "" {
		cmd.Env = append(cmd.Env, "LOG_LEVEL="+cfg.logLevel)
	}
	cmd.Env = append(cmd.Env, rateLimitEnv(cfg.rateLimit)...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s %s: %w", cfg.bin, command, err)
	}
	s := &server{name: name, cmd: cmd, addr: addr, base: "http://" + addr, done: make(chan struct{}), log: logFile}
	go func() { s.err = cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := s.call(ctx, http.MethodGet, "/readyz", "", nil, nil); err == nil {
			logf("%s: %s pid %d on %s (log: %s)", name, command, cmd.Process.Pid, addr, logPath)
			return s, nil
		}
		select {
		case <-s.done:
			logFile.Close()
			return nil, fmt.Errorf("%s exited before it was ready (%v); see %s", name, s.err, logPath)
		case <-ctx.Done():
			_ = s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.stop()
			return nil, fmt.Errorf("%s not ready after 30s; see %s", name, logPath)
		}
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM and waits for the graceful shutdown, killing the server if it hangs. A
// process that already exited (killed) is only waited for.
func (s *server) stop() error {
	defer s.log.Close()
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("%s ignored SIGTERM for 40s and was killed", s.name)
	}
}

// kill9 ends the process with SIGKILL, as a crash would: no draining, no goodbye to River or
// the database, and waits for it to be gone.
func (s *server) kill9() error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill -9 %s: %w", s.name, err)
	}
	<-s.done
	return nil
}

var setupClient = &http.Client{Timeout: 30 * time.Second}

// call sends one JSON request and decodes a 2xx answer into out.
func (s *server) call(ctx context.Context, method, path, bearer string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := setupClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// loadFixture logs every agent in and samples the seeded data for the scenarios' parameters.
func (e *env) loadFixture(ctx context.Context) (*fixture, error) {
	ws, err := uuid.Parse(e.state.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("bench state: workspace id: %w", err)
	}
	convs := conversation.NewService(e.st, time.Now)
	f := &fixture{base: e.server.base, workspaceID: ws, st: e.st, recorded: map[string][]statement{},
		contacts: contact.NewService(e.st, time.Now), convs: convs, sends: conversation.NewSendService(e.st, convs, time.Now, conversation.SendConfig{}),
		keyAuth: http.Header{"Authorization": {"Bearer " + e.state.APIKey}, "Content-Type": {"application/json"}},
		runID:   strconv.FormatInt(time.Now().UnixNano(), 36)}
	for _, m := range e.state.Agents {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		err := e.server.call(ctx, http.MethodPost, "/v1/auth/login", "", map[string]string{"email": m.Email, "password": cmp.Or(e.state.AgentPass, e.state.Password)}, &tok)
		if err != nil {
			return nil, fmt.Errorf("log in %s: %w", m.Email, err)
		}
		var claims struct {
			Sub string `json:"sub"`
			Sid string `json:"sid"`
		}
		parts := strings.Split(tok.AccessToken, ".")
		if len(parts) != 3 {
			return nil, fmt.Errorf("log in %s: the access token is not a JWT", m.Email)
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Sid == "" {
			return nil, fmt.Errorf("log in %s: no session id in the access token", m.Email)
		}
		id, err1 := uuid.Parse(claims.Sub)
		session, err2 := uuid.Parse(claims.Sid)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("log in %s: the access token's sub or sid is no uuid", m.Email)
		}
		f.agents = append(f.agents, agent{id: id, email: m.Email, token: tok.AccessToken, session: session,
			auth: http.Header{"Authorization": {"Bearer " + tok.AccessToken}}})
	}
	if len(f.agents) == 0 {
		return nil, errors.New("the bench workspace has no agents")
	}

	// A fixed, spread-out sample (ordered by a hash of the id) so every run searches for the
	// same fragments on the same data.
	rows, err := e.pool.Query(ctx, `
SELECT id::text, phone_digits, lower(last_name) FROM contacts
WHERE workspace_id = $1 AND phone IS NOT NULL AND last_name <> ''
ORDER BY md5(id::text) LIMIT $2`, e.state.WorkspaceID, contactSample)
	if err != nil {
		return nil, fmt.Errorf("sample contacts: %w", err)
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		var id, digits, last string
		if err := rows.Scan(&id, &digits, &last); err != nil {
			return nil, err
		}
		f.contactIDs = append(f.contactIDs, id)
		if n < variants {
			// From the subscriber number (the last 7 digits), as an agent would type it: the
			// country and area codes are shared by too many contacts to be searched for.
			f.phoneFragments = append(f.phoneFragments, fragment([]rune(digits[max(0, len(digits)-7):]), n))
			f.nameFragments = append(f.nameFragments, fragment([]rune(last), n))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(f.phoneFragments) == 0 {
		return nil, errors.New("the bench workspace has no contacts with a phone and a last name")
	}
	if err := e.loadChannels(ctx, f); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(scenarios, func(s scenario) bool { return s.extras && e.cfg.selected(s) }) {
		if err := e.ensureExtras(ctx, f); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(scenarios, func(s scenario) bool { return s.threads && e.cfg.selected(s) }) {
		if err := e.ensureThreads(ctx, f, threadRows); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(scenarios, func(s scenario) bool { return s.spread && e.cfg.selected(s) }) {
		if err := e.ensureSpread(ctx, f); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(scenarios, func(s scenario) bool { return s.tagged && e.cfg.selected(s) }) {
		if err := e.ensureBroadcastTag(ctx); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// loadChannels samples the identities of the seeded WhatsApp channel, when the schema has
// channels and the seed made them.
func (e *env) loadChannels(ctx context.Context, f *fixture) error {
	var has bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('contact_identities') IS NOT NULL`).Scan(&has); err != nil || !has {
		return err
	}
	rows, err := e.pool.Query(ctx, `
SELECT i.channel_id::text, i.identifier FROM contact_identities i
JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = $1 AND ch.type = 'whatsapp' AND ch.archived_at IS NULL
ORDER BY md5(i.id::text) LIMIT $2`, e.state.WorkspaceID, contactSample)
	if err != nil {
		return fmt.Errorf("sample identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch, ident string
		if err := rows.Scan(&ch, &ident); err != nil {
			return err
		}
		f.inboundChannel = ch
		f.inboundIdentifiers = append(f.inboundIdentifiers, ident)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	rows, err = e.pool.Query(ctx, `
SELECT i.contact_id::text, i.channel_id::text FROM contact_identities i
JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = $1 AND ch.type IN ('telegram', 'sms', 'email', 'line', 'webchat') AND ch.archived_at IS NULL
ORDER BY md5(i.id::text) LIMIT $2`, e.state.WorkspaceID, contactSample)
	if err != nil {
		return fmt.Errorf("sample send targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t sendTarget
		if err := rows.Scan(&t.contact, &t.channel); err != nil {
			return err
		}
		f.sendTargets = append(f.sendTargets, t)
	}
	return rows.Err()
}

// routes lists the server's operations from its spec, as "GET /v1/contacts".
func (s *server) routes(ctx context.Context) (map[string]bool, error) {
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := s.call(ctx, http.MethodGet, "/openapi.json", "", nil, &spec); err != nil {
		return nil, fmt.Errorf("read the server's spec: %w", err)
	}
	out := map[string]bool{}
	for path, ops := range spec.Paths {
		for method := range ops {
			out[strings.ToUpper(method)+" "+path] = true
		}
	}
	return out, nil
}

const (
	// variants is how many parameter sets (fragments) the read scenarios use: the API draws
	// from them at random and pgbench gets one script each (it allows at most 128).
	variants = 64
	// contactSample is how many contacts the per-contact scenarios spread over.
	contactSample = 4096
)

// fragment is 4 consecutive runes of s, at a position that depends on n, as an agent would
// type part of a name or number.
func fragment(s []rune, n int) string {
	const size = 4
	if len(s) <= size {
		return string(s)
	}
	at := (n * 7) % (len(s) - size + 1)
	return string(s[at : at+size])
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// settle leaves the data as a quiet database that autovacuum has caught up with, before the
// run measures (issue 19's "measure a settled database"). Earlier runs' writes (sends,
// inbound, the closing windows ensureExtras remakes every run) leave dead rows and pages no
// longer all-visible, which turn the searches' index-only walks into heap fetches: a closed-
// inbox name search fetched 2 982 table rows for 8 659 index entries, so the figures depended
// on what had run before. VACUUM skips the pages still all-visible, so a settled database
// costs seconds; CHECKPOINT so that no checkpoint falls in the middle of a level.
func (e *env) settle(ctx context.Context) error {
	start := time.Now()
	if _, err := e.pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("settle: vacuum: %w", err)
	}
	if _, err := e.pool.Exec(ctx, `CHECKPOINT`); err != nil {
		return fmt.Errorf("settle: checkpoint: %w", err)
	}
	logf("settled the database (VACUUM (ANALYZE), CHECKPOINT) in %s", time.Since(start).Round(time.Second))
	return nil
}
