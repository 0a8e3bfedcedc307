package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// The cluster measurement (bench cluster, make bench-cluster; issue 19, "Several processes"):
// three `switchboard serve` processes and two `switchboard worker` processes behind HAProxy,
// under an open-loop mixed load, against the same load on one serve process; then the same
// load again while one serve process and one worker are killed with SIGKILL, and counts that
// must be zero: acknowledged writes missing from the database or never delivered, messages a
// provider that dedupes by key was given twice, and events a resumed stream missed or saw twice.
//
// HAProxy rather than nginx: Debian starts a package's service when it is installed on a
// machine with systemd, and HAProxy's packaged configuration listens nowhere while nginx's
// serves port 80 on every interface; and HAProxy checks each process's /readyz itself, so a
// killed process leaves the rotation within a second, where nginx (open source) only learns
// from failed requests. The processes are not restarted after the kill: what is measured is
// that the survivors cover for them.

// clusterEnv is the environment bench cluster reads: make bench's names for what both share
// (BENCH_BIN, BENCH_RESULTS, BENCH_LOG_LEVEL, BENCH_RATE_LIMIT, BENCH_WARMUP), and names of
// its own, with smaller defaults, for its database, state, size and duration, so a cluster
// run never reads or reseeds make bench's data.
func clusterEnv(getenv func(string) string) func(string) string {
	own := map[string]struct{ name, def string }{
		"BENCH_DATABASE_URL":         {"BENCH_CLUSTER_DATABASE_URL", ""},
		"BENCH_STATE_DIR":            {"BENCH_CLUSTER_STATE_DIR", filepath.Join(".data", "bench-cluster")},
		"BENCH_CONTACTS":             {"BENCH_CLUSTER_CONTACTS", "5000"},
		"BENCH_MESSAGES_PER_CONTACT": {"BENCH_CLUSTER_MESSAGES_PER_CONTACT", "4"},
		"BENCH_AGENTS":               {"BENCH_CLUSTER_AGENTS", "20"},
		"BENCH_DURATION":             {"BENCH_CLUSTER_DURATION", "20s"},
		"BENCH_SCENARIOS":            {"", ""}, // set by measureCluster: the mix's
		"BENCH_LEVELS":               {"", ""},
	}
	return func(k string) string {
		o, ok := own[k]
		if !ok {
			return getenv(k)
		}
		if o.name != "" {
			if v := strings.TrimSpace(getenv(o.name)); v != "" {
				return v
			}
		}
		return o.def
	}
}

// clusterSettings are bench cluster's own settings besides those clusterEnv maps.
type clusterSettings struct {
	rates []int         // BENCH_CLUSTER_RATES: req/s of the open loop, each run on one process and on the cluster
	fault time.Duration // BENCH_CLUSTER_FAULT_DURATION: the load the kills happen in
	drain time.Duration // BENCH_CLUSTER_DRAIN: how long deliveries may take to settle after it
}

func loadClusterSettings(getenv func(string) string) (clusterSettings, error) {
	var c clusterSettings
	var errs []error
	rates, err := positiveInts(cmpOr(getenv("BENCH_CLUSTER_RATES"), "100,200,300"))
	if err != nil {
		errs = append(errs, fmt.Errorf("BENCH_CLUSTER_RATES: %w", err))
	}
	c.rates = rates
	dur := func(name, def string, least time.Duration) time.Duration {
		d, err := time.ParseDuration(cmpOr(getenv(name), def))
		if err != nil || d < least {
			errs = append(errs, fmt.Errorf("%s: want a duration of at least %s", name, least))
		}
		return d
	}
	// The kills happen at a third and at half of the fault run: it must be long enough for
	// load before, between and after them.
	c.fault = dur("BENCH_CLUSTER_FAULT_DURATION", "30s", 9*time.Second)
	c.drain = dur("BENCH_CLUSTER_DRAIN", "3m", 10*time.Second)
	return c, errors.Join(errs...)
}

func cmpOr(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

// mixScenarios are the scenarios whose requests the mix reuses; the fixture is loaded for
// them alone (no labels, snoozes or broadcast tags are made).
var mixScenarios = []string{"inbox-open", "inbox-mine", "contacts-phone", "contacts-name", "closed-search",
	"send-eligibility", "inbound"}

// clusterFixture is the mix as bench cluster sends it: thread reads of a sample of all
// conversations (threads), and every send to a contact of the seeded LINE channel, which the
// workers deliver to the fake LINE API.
type clusterFixture struct {
	mixer
	lineChannel  string   // the seeded LINE channel, switched to the fake LINE API
	lineContacts []string // contacts with an identity on it: every send goes there
}

// lineSend is the send of variant i: a text to a contact of the LINE channel.
func (c *clusterFixture) lineSend(i int) vegeta.Target {
	body, _ := json.Marshal(map[string]string{"type": "text", "text": pick(sendTexts, i), "channel_id": c.lineChannel})
	tg := c.get(i, "/v1/contacts/"+pick(c.lineContacts, i)+"/messages")
	tg.Method, tg.Body = http.MethodPost, body
	tg.Header = tg.Header.Clone()
	tg.Header.Set("Content-Type", "application/json")
	return tg
}

// writes are the acknowledged (2xx) writes of the runs: the ids of the messages the answers
// named.
type writes struct {
	mu      sync.Mutex
	sends   []uuid.UUID
	inbound []uuid.UUID
	noID    int // 2xx answers to a write without a message id in them
}

func (w *writes) record(kind string, body []byte) {
	var ans struct {
		Message struct {
			ID uuid.UUID `json:"id"`
		} `json:"message"`
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if json.Unmarshal(body, &ans) != nil || ans.Message.ID == uuid.Nil {
		w.noID++
		return
	}
	if kind == "send" {
		w.sends = append(w.sends, ans.Message.ID)
	} else {
		w.inbound = append(w.inbound, ans.Message.ID)
	}
}

// proxy is HAProxy in front of the serve processes, a child process in the foreground.
type proxy struct {
	cmd  *exec.Cmd
	base string
	dir  string
	done chan struct{}
	log  *os.File
}

// startProxy writes HAProxy's configuration to a temporary directory and runs it with the
// serve processes as its round-robin backend.
func startProxy(ctx context.Context, stateDir string, serves []*server) (*proxy, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/haproxy"); serr != nil {
			return nil, errors.New("haproxy is not installed: make bench-cluster installs Debian's haproxy package")
		}
		bin = "/usr/sbin/haproxy"
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "switchboard-haproxy-")
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	// retries with redispatch: a connection a killed process refuses is tried on another
	// (nothing was sent, so even a POST is safe to retry). Nothing else is retried: a request
	// the killed process had taken is answered 502, as an unacknowledged write must be. The
	// health check takes a dead process out of the rotation after two failed checks. The
	// timeouts outlast the event streams' 15 s heartbeats.
	fmt.Fprintf(&b, `global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    retries 3
    option redispatch 1
    retry-on conn-failure

frontend api
    bind %s
    default_backend serve

backend serve
    balance roundrobin
    option httpchk GET /readyz
    # Which process answered: the stream reader needs to know whose stream was cut.
    http-response set-header X-Served-By %%[srv_name]
`, addr)
	for _, s := range serves {
		fmt.Fprintf(&b, "    server %s %s check inter 500ms fall 2 rise 2\n", s.name, s.addr)
	}
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(stateDir, "haproxy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-db", "-f", cfgPath) // -db: in the foreground, not a daemon
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	p := &proxy{cmd: cmd, base: "http://" + addr, dir: dir, done: make(chan struct{}), log: logFile}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil)
		resp, err := setupClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				logf("haproxy pid %d on %s (config %s, log %s)", cmd.Process.Pid, addr, cfgPath, logPath)
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("haproxy exited before it was ready; see %s", logPath)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("haproxy not ready after 10s; see %s", logPath)
		}
	}
}

func (p *proxy) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
	os.RemoveAll(p.dir)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// streamReader reads the workspace's event stream through the proxy as an EventSource does:
// when the connection drops it reconnects after the stream's retry interval with
// Last-Event-ID, the id of the last event it received whole.
type streamReader struct {
	name string

	mu         sync.Mutex
	seen       []int64  // event ids in the order received, repeats included
	servedBy   []string // the process of each connection, from HAProxy's X-Served-By
	last       int64
	reconnects int
	connected  chan struct{} // closed once the first connection is open
}

// streamClient has no timeout: a stream lasts the whole run.
var streamClient = &http.Client{}

func (r *streamReader) run(ctx context.Context, base, key string, from int64) {
	r.last = from
	retry := 3 * time.Second
	first := true
	for ctx.Err() == nil {
		r.mu.Lock()
		last := r.last
		r.mu.Unlock()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events/stream", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
		resp, err := streamClient.Do(req)
		if err == nil && resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			err = fmt.Errorf("status %s", resp.Status)
		}
		if err != nil {
			if ctx.Err() == nil {
				logf("stream %s: %v; reconnecting in %s", r.name, err, retry)
			}
		} else {
			r.mu.Lock()
			r.servedBy = append(r.servedBy, resp.Header.Get("X-Served-By"))
			r.mu.Unlock()
			if first {
				first = false
				close(r.connected)
			}
			retry = r.read(resp, retry)
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		r.mu.Lock()
		r.reconnects++
		r.mu.Unlock()
	}
}

// read takes events until the stream ends; an event counts once its blank line arrived, as
// EventSource dispatches it. It returns the retry interval the stream asked for.
func (r *streamReader) read(resp *http.Response, retry time.Duration) time.Duration {
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var id int64
	hasID := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if hasID {
				r.mu.Lock()
				r.seen = append(r.seen, id)
				r.last = id
				r.mu.Unlock()
			}
			hasID = false
		case strings.HasPrefix(line, "id: "):
			if n, err := strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64); err == nil {
				id, hasID = n, true
			}
		case strings.HasPrefix(line, "retry: "):
			if n, err := strconv.Atoi(strings.TrimPrefix(line, "retry: ")); err == nil {
				retry = time.Duration(n) * time.Millisecond
			}
		}
	}
	return retry
}

func (r *streamReader) lastID() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// faultResult is what the fault run found.
type faultResult struct {
	run              mixRun
	killedServe      string
	killedWorker     string
	killServeAt      time.Duration
	killWorkerAt     time.Duration
	writesChecked    int
	sends            int // of writesChecked
	missing          int // (a) acknowledged writes not in the database
	noID             int // 2xx write answers without a message id
	twice            int // (b) messages the fake LINE API took more than once
	unattributed     int // deliveries whose retry key is no message of the channel (in twice)
	dedupedRetries   int // requests the fake answered 409: a retry it had already taken
	queuedAfterDrain int // acknowledged sends still queued when the drain ended
	failed           int // acknowledged sends that failed
	sentNotTaken     int // acknowledged sends marked sent that the fake never took
	drained          time.Duration
	streams          []streamCheck
}

// streamCheck compares what one stream reader received with the events table.
type streamCheck struct {
	name       string
	servedBy   []string
	reconnects int
	expected   int
	received   int
	missing    int // (c)
	duplicated int // (c)
	unexpected int // ids received that the table does not hold
}

// counts are the fault run's counts that must be zero: acknowledged writes missing from the
// database, acknowledged sends the provider never got (still queued when the drain ended,
// failed, or marked sent without reaching it), messages the provider took twice, and events a
// stream missed or received twice.
type counts struct{ missing, undelivered, twice, streamMissing, streamDuplicated int }

func (c counts) zero() bool { return c == counts{} }

func (f faultResult) counts() counts {
	c := counts{missing: f.missing, undelivered: f.queuedAfterDrain + f.failed + f.sentNotTaken, twice: f.twice}
	for _, s := range f.streams {
		c.streamMissing += s.missing + s.unexpected
		c.streamDuplicated += s.duplicated
	}
	return c
}

func (c counts) String() string {
	return fmt.Sprintf("%d acknowledged writes missing, %d acknowledged sends never delivered, %d messages delivered twice, "+
		"%d stream events missing, %d received twice", c.missing, c.undelivered, c.twice, c.streamMissing, c.streamDuplicated)
}

// measureCluster runs the whole measurement and writes bench/results/<date>-cluster.md. It
// returns an error when any count is not zero.
func measureCluster(ctx context.Context, cfg config, getenv func(string) string) (err error) {
	cs, err := loadClusterSettings(getenv)
	if err != nil {
		return err
	}
	cfg.only = mixScenarios
	// Every process delivers to the fake LINE API on loopback; the serve processes only
	// enqueue (DELIVERY_WORKERS=0), so the workers deliver everything and their kill leaves
	// deliveries behind. A short provider timeout makes River rescue a killed worker's jobs
	// within about half a minute (twice the job timeout, DELIVERY_SEND_TIMEOUT + 10 s).
	shared := []string{"PROVIDER_API_BASE_OVERRIDE=true", "DELIVERY_SEND_TIMEOUT=2s"}
	cfg.serverEnv = append([]string{"DELIVERY_WORKERS=0"}, shared...)

	fake, stopFake := pt.StartLINE()
	defer stopFake()
	// Slower than a real API's tens of milliseconds, so that at a tenth of the load the
	// workers hold several calls at any moment and the killed one leaves some behind: the
	// provider has taken them, the database does not know, and the rescued jobs retry them.
	fake.SetLatency(time.Second)

	e, err := prepare(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.close()
	facts, err := gatherFacts(ctx, e)
	if err != nil {
		return err
	}
	c, err := e.clusterFixture(ctx, fake.URL)
	if err != nil {
		return err
	}

	serves := []*server{e.server}
	var workers []*server
	defer func() {
		for _, s := range append(serves[1:], workers...) {
			if serr := s.stop(); serr != nil {
				logf("%v", serr)
			}
		}
	}()
	for n := 2; n <= 3; n++ {
		s, err := startProcess(ctx, cfg, e.state, fmt.Sprintf("serve-%d", n), "serve", cfg.serverEnv...)
		if err != nil {
			return err
		}
		serves = append(serves, s)
	}
	serves[0].name = "serve-1"
	for n := 1; n <= 2; n++ {
		s, err := startProcess(ctx, cfg, e.state, fmt.Sprintf("worker-%d", n), "worker", shared...)
		if err != nil {
			return err
		}
		workers = append(workers, s)
	}
	px, err := startProxy(ctx, cfg.stateDir, serves)
	if err != nil {
		return err
	}
	defer px.stop()

	loadBefore := loadAverage()
	w := &writes{}
	c.ack = w.record
	logf("cluster: warming up for %s", cfg.warmup)
	if _, err := runMix(ctx, &c.mixer, "warm-up", "HAProxy", px.base, cs.rates[0], cfg.warmup); err != nil {
		return err
	}
	procs := append(slices.Clone(serves), workers...)
	var runs []mixRun
	for _, rate := range cs.rates {
		one, err := runMix(ctx, &c.mixer, fmt.Sprintf("one process, %d req/s", rate), "serve-1 directly", e.server.base, rate, cfg.duration)
		if err != nil {
			return err
		}
		three, err := runMix(ctx, &c.mixer, fmt.Sprintf("cluster, %d req/s", rate), "HAProxy → 3 serve", px.base, rate, cfg.duration)
		if err != nil {
			return err
		}
		if err := alive(procs...); err != nil {
			return err
		}
		runs = append(runs, one, three)
	}

	fr, err := faultRun(ctx, e, c, w, fake, px, serves, workers, cs)
	if err != nil {
		return err
	}
	if err := alive(slices.DeleteFunc(procs, func(s *server) bool {
		return s.name == fr.killedServe || s.name == fr.killedWorker
	})...); err != nil {
		return err
	}
	facts.load = [2]string{loadBefore, loadAverage()}
	p, err := writeClusterResults(cfg, cs, facts, len(e.fix.agents), runs, fr)
	if err != nil {
		return err
	}
	n := fr.counts()
	logf("cluster: written to %s: %s", p, n)
	if !n.zero() {
		return fmt.Errorf("the fault run lost or repeated something: %s (see %s)", n, p)
	}
	return nil
}

// clusterFixture points the seeded LINE channel at the fake LINE API (its address changes
// every run) and samples the conversations and the LINE channel's contacts.
func (e *env) clusterFixture(ctx context.Context, fakeURL string) (*clusterFixture, error) {
	c := &clusterFixture{mixer: mixer{fixture: e.fix}}
	c.send = c.lineSend
	err := e.pool.QueryRow(ctx, `
SELECT id::text FROM channels WHERE workspace_id = $1 AND type = 'line' AND archived_at IS NULL ORDER BY id LIMIT 1`,
		e.state.WorkspaceID).Scan(&c.lineChannel)
	if err != nil {
		return nil, fmt.Errorf("the seeded LINE channel: %w", err)
	}
	body, _ := json.Marshal(map[string]any{"type": "line", "provider": "line", "config": map[string]string{
		"channel_access_token": "bench-token", "channel_secret": "bench-secret", "api_base": fakeURL}})
	var ch struct{}
	if err := c.call(ctx, http.MethodPut, "/v1/channels/"+c.lineChannel+"/provider", body, http.StatusOK, &ch); err != nil {
		return nil, fmt.Errorf("point the LINE channel at the fake LINE API: %w", err)
	}
	sample := func(q string, into *[]string, args ...any) error {
		rows, err := e.pool.Query(ctx, q, append([]any{e.state.WorkspaceID, contactSample}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			*into = append(*into, id)
		}
		return rows.Err()
	}
	if err := sample(`SELECT id::text FROM conversations WHERE workspace_id = $1 ORDER BY md5(id::text) LIMIT $2`, &c.threads); err != nil {
		return nil, fmt.Errorf("sample conversations: %w", err)
	}
	const q = `SELECT DISTINCT contact_id::text FROM contact_identities WHERE workspace_id = $1 AND channel_id = $3 LIMIT $2`
	if err := sample(q, &c.lineContacts, c.lineChannel); err != nil {
		return nil, fmt.Errorf("sample the LINE channel's contacts: %w", err)
	}
	if len(c.threads) == 0 || len(c.lineContacts) == 0 {
		return nil, errors.New("the cluster workspace has no conversations or no contacts on its LINE channel")
	}
	return c, nil
}

// faultRun runs the mix through the proxy at the first rate while three stream readers
// follow the events, kills the first reader's serve process at a third of the run and a
// worker at half of it, lets the deliveries settle, and counts.
func faultRun(ctx context.Context, e *env, c *clusterFixture, w *writes, fake *pt.LINE, px *proxy,
	serves, workers []*server, cs clusterSettings) (faultResult, error) {
	var fr faultResult
	wsID, err := uuid.Parse(e.state.WorkspaceID)
	if err != nil {
		return fr, fmt.Errorf("bench workspace id: %w", err)
	}
	from, err := e.st.LastEventID(ctx, wsID)
	if err != nil {
		return fr, err
	}
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var wg sync.WaitGroup
	defer wg.Wait()
	readers := make([]*streamReader, len(serves))
	for i := range readers {
		readers[i] = &streamReader{name: strconv.Itoa(i + 1), connected: make(chan struct{})}
		wg.Go(func() { readers[i].run(streamCtx, px.base, e.state.APIKey, from) })
		select {
		case <-readers[i].connected:
		case <-time.After(10 * time.Second):
			return fr, fmt.Errorf("stream %d did not connect through HAProxy", i+1)
		}
	}
	victim := readers[0].servedBy[0]
	var serve *server
	for _, s := range serves {
		if s.name == victim {
			serve = s
		}
	}
	if serve == nil {
		return fr, fmt.Errorf("stream 1 was served by %q, none of the serve processes", victim)
	}
	worker := workers[0]
	fr.killedServe, fr.killedWorker = serve.name, worker.name
	fr.killServeAt, fr.killWorkerAt = cs.fault/3, cs.fault/2
	rate := cs.rates[0]
	logf("fault run: %d req/s for %s; kill -9 %s (stream 1's) at %s and %s at %s", rate, cs.fault, serve.name,
		fr.killServeAt, worker.name, fr.killWorkerAt)

	killErr := make(chan error, 1)
	go func() {
		start := time.Now()
		sleep := func(until time.Duration) bool {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(until - time.Since(start)):
				return true
			}
		}
		if !sleep(fr.killServeAt) {
			killErr <- ctx.Err()
			return
		}
		if err := serve.kill9(); err != nil {
			killErr <- err
			return
		}
		logf("fault run: killed %s", serve.name)
		if !sleep(fr.killWorkerAt) {
			killErr <- ctx.Err()
			return
		}
		err := worker.kill9()
		if err == nil {
			logf("fault run: killed %s", worker.name)
		}
		killErr <- err
	}()
	run, err := runMix(ctx, &c.mixer, fmt.Sprintf("fault run, %d req/s", rate), "HAProxy → 3 serve, 1 killed", px.base, rate, cs.fault)
	if err != nil {
		return fr, err
	}
	if err := <-killErr; err != nil {
		return fr, err
	}
	fr.run = run

	// The deliveries settle: the killed worker's jobs are rescued by River on a survivor.
	start := time.Now()
	ws := e.state.WorkspaceID
	for {
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1 AND id = ANY($2) AND status = 'queued'`,
			ws, w.sends).Scan(&fr.queuedAfterDrain); err != nil {
			return fr, err
		}
		if fr.queuedAfterDrain == 0 || time.Since(start) > cs.drain {
			break
		}
		select {
		case <-ctx.Done():
			return fr, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	fr.drained = time.Since(start)
	logf("fault run: deliveries settled in %s (%d still queued)", fr.drained.Round(time.Second), fr.queuedAfterDrain)

	// (a) Every acknowledged write is in the database.
	all := append(slices.Clone(w.sends), w.inbound...)
	fr.writesChecked, fr.sends, fr.noID = len(all), len(w.sends), w.noID
	if err := e.pool.QueryRow(ctx, `
SELECT count(*) FROM unnest($2::uuid[]) AS a(id)
WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.workspace_id = $1 AND m.id = a.id)`, ws, all).Scan(&fr.missing); err != nil {
		return fr, err
	}

	// (b) No message reached the fake LINE API twice. It takes a retry key once (a retry gets
	// 409), so a message would reach it twice only under two keys: every key must be the id of
	// a message of the channel (line.RetryKey), each taken once.
	delivered, _, conflicts := fake.Stats()
	fr.dedupedRetries = conflicts
	keys := make([]string, 0, len(delivered))
	for k, n := range delivered {
		keys = append(keys, k)
		fr.twice += n - 1
	}
	var known int
	if err := e.pool.QueryRow(ctx, `
SELECT count(*) FROM messages WHERE workspace_id = $1 AND channel_id = $2 AND id::text = ANY($3)`,
		ws, c.lineChannel, keys).Scan(&known); err != nil {
		return fr, err
	}
	fr.unattributed = len(keys) - known
	fr.twice += fr.unattributed
	sent := map[string]bool{}
	for _, k := range keys {
		sent[k] = true
	}
	rows, err := e.pool.Query(ctx, `SELECT id::text, status FROM messages WHERE workspace_id = $1 AND id = ANY($2)`, ws, w.sends)
	if err != nil {
		return fr, err
	}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			rows.Close()
			return fr, err
		}
		switch {
		case status == "failed":
			fr.failed++
		case status != "queued" && !sent[id]:
			fr.sentNotTaken++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fr, err
	}

	// (c) Each stream received every event of the workspace once, the cut one too.
	// LastEventID numbers what is still queued first, so upTo covers every committed event.
	upTo, err := e.st.LastEventID(ctx, wsID)
	if err != nil {
		return fr, err
	}
	caughtUp := time.Now().Add(30 * time.Second)
	for _, r := range readers {
		for r.lastID() < upTo && time.Now().Before(caughtUp) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	stopStreams()
	wg.Wait()
	var expected []int64
	rows, err = e.pool.Query(ctx, `SELECT id FROM events WHERE workspace_id = $1 AND id > $2 AND id <= $3 ORDER BY id`, ws, from, upTo)
	if err != nil {
		return fr, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fr, err
		}
		expected = append(expected, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fr, err
	}
	for _, r := range readers {
		fr.streams = append(fr.streams, compareStream(r, expected, upTo))
	}
	return fr, nil
}

// compareStream counts the events of expected (ids up to upTo) that r missed or received more
// than once, and the ids it received that are not among them.
func compareStream(r *streamReader, expected []int64, upTo int64) streamCheck {
	r.mu.Lock()
	defer r.mu.Unlock()
	sc := streamCheck{name: r.name, servedBy: slices.Clone(r.servedBy), reconnects: r.reconnects, expected: len(expected)}
	want := make(map[int64]bool, len(expected))
	for _, id := range expected {
		want[id] = true
	}
	got := map[int64]int{}
	for _, id := range r.seen {
		if id > upTo {
			continue
		}
		sc.received++
		got[id]++
		if got[id] == 2 {
			sc.duplicated++
		}
		if !want[id] && got[id] == 1 {
			sc.unexpected++
		}
	}
	for _, id := range expected {
		if got[id] == 0 {
			sc.missing++
		}
	}
	return sc
}

// writeClusterResults writes bench/results/<date>-cluster.md and returns its path.
func writeClusterResults(cfg config, cs clusterSettings, f facts, agents int, runs []mixRun, fr faultResult) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Several processes, %s, %d cores\n\n", f.date.Format("2006-01-02"), f.cores)
	b.WriteString(f.markdown(agents))
	// Other work on the cores shows in every figure: the runs cannot say it was quiet.
	fmt.Fprintf(&b, "| load average | %s before the runs, %s after the fault run (1, 5, 15 min; /proc/loadavg) |\n\n", f.load[0], f.load[1])
	fmt.Fprintf(&b, "`make bench-cluster` (bench/README.md, \"Several processes\"): three `switchboard serve` processes "+
		"(`DELIVERY_WORKERS=0`) and two `switchboard worker` processes on 127.0.0.1, HAProxy in front (round robin, "+
		"`/readyz` checked every 500 ms), each process on its own `DB_MAX_CONNS` pool. The load is open loop (vegeta at "+
		"a fixed rate) for %s a run, issue 19's mix: 30 %% inbox lists (open, mine), 30 %% thread reads, 15 %% searches "+
		"(contacts by phone digits and by name, closed conversations by name), 10 %% send-eligibility, 10 %% sends "+
		"(to the seeded LINE channel, delivered by the workers to a fake LINE API that answers in 1 s and takes a "+
		"retry key once; each send under an Idempotency-Key of its own), 5 %% inbound. Latencies count from each "+
		"request's intended send time. *One process* is the same load sent to one serve process directly, with the "+
		"same workers delivering.\n\n", cfg.duration)
	b.WriteString("| run | target | rate | answered 2xx/s | p50 | p99 | errors |\n| --- | --- | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range append(slices.Clone(runs), fr.run) {
		fmt.Fprintf(&b, "| %s | %s | %d/s | %.0f | %s | %s | %s |\n", r.name, r.target, r.rate,
			float64(r.all.ok)/r.elapsed.Seconds(), ms(r.all.quantile(0.5)), ms(r.all.quantile(0.99)), r.all.errorText())
	}
	b.WriteString("\np99 by kind of request:\n\n| run |")
	for _, m := range mix {
		b.WriteString(" " + m.kind + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(mix)) + "\n")
	for _, r := range append(slices.Clone(runs), fr.run) {
		b.WriteString("| " + r.name + " |")
		for _, m := range mix {
			if k := r.kinds[m.kind]; k != nil {
				b.WriteString(" " + ms(k.quantile(0.99)) + " |")
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}

	n := fr.counts()
	fmt.Fprintf(&b, "\n## The fault run\n\nThe mix through HAProxy at %d req/s for %s, with three event streams read "+
		"through HAProxy as EventSource reads them (on a cut, reconnect after the stream's `retry` with `Last-Event-ID`). "+
		"`kill -9` of %s, the process stream 1 was on, at %s, and of %s at %s; neither is restarted. Then the harness "+
		"waited for the acknowledged sends to leave `queued` (%s), and for the streams to reach the workspace's last event.\n\n",
		fr.run.rate, cs.fault, fr.killedServe, fr.killServeAt, fr.killedWorker, fr.killWorkerAt, fr.drained.Round(time.Second))
	b.WriteString("| count | found | must be |\n| --- | ---: | ---: |\n")
	fmt.Fprintf(&b, "| (a) acknowledged (2xx) writes of all runs missing from the database, of %s (%s sends, %s inbound) | %d | 0 |\n",
		thousands(int64(fr.writesChecked)), thousands(int64(fr.sends)), thousands(int64(fr.writesChecked-fr.sends)), n.missing)
	fmt.Fprintf(&b, "| (a) acknowledged sends the fake LINE API never took: %d still queued %s after the run, %d failed, %d marked sent without reaching it | %d | 0 |\n",
		fr.queuedAfterDrain, fr.drained.Round(time.Second), fr.failed, fr.sentNotTaken, n.undelivered)
	fmt.Fprintf(&b, "| (b) messages the fake LINE API took more than once (by retry key; keys that are no message of the channel count too: %d) | %d | 0 |\n",
		fr.unattributed, n.twice)
	fmt.Fprintf(&b, "| (c) events missing from a resumed stream | %d | 0 |\n", n.streamMissing)
	fmt.Fprintf(&b, "| (c) events a resumed stream received twice | %d | 0 |\n", n.streamDuplicated)
	b.WriteString("\n| also seen | |\n| --- | ---: |\n")
	fmt.Fprintf(&b, "| retries the fake LINE API had already taken (answered 409: the dedupe at work) | %d |\n", fr.dedupedRetries)
	fmt.Fprintf(&b, "| 2xx write answers without a message id | %d |\n", fr.noID)
	b.WriteString("\n| stream | served by (each connection) | reconnects | events expected | received | missing | twice | not in the table |\n" +
		"| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range fr.streams {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d |\n", s.name, strings.Join(s.servedBy, " → "), s.reconnects,
			s.expected, s.received, s.missing, s.duplicated, s.unexpected)
	}
	if err := os.MkdirAll(cfg.resultsDir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(cfg.resultsDir, f.date.Format("2006-01-02")+"-cluster.md")
	return p, os.WriteFile(p, []byte(b.String()), 0o644)
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], ", ")
	}
	return "unknown"
}

// alive fails when one of procs has exited: the harness kills only the fault run's two, so
// another process's end means something outside it stopped the process (another bench's
// clean-up, say), and the figures and counts of the run are void.
func alive(procs ...*server) error {
	for _, s := range procs {
		select {
		case <-s.done:
			return fmt.Errorf("%s (pid %d) exited during the run (%v), not killed by the harness: the run is void; see %s",
				s.name, s.pid(), s.err, s.log.Name())
		default:
		}
	}
	return nil
}
