package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/app"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/conversation"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// TestKill9Cluster is issue 19's several-processes point at a small scale (make bench-cluster
// runs it behind HAProxy under the mixed load): two `switchboard serve` processes
// (DELIVERY_WORKERS=0) and two `switchboard worker` processes behind a round-robin proxy.
// Sends and inbound messages go through the proxy while a client reads the event stream
// through it; the serve process the stream is on and a worker are killed with SIGKILL. No
// acknowledged write is lost or left undelivered, none reaches the provider (which takes a
// retry key once) twice, and the stream, resumed with Last-Event-ID, misses no event and
// repeats none. The survivors start first, so River's leader is most likely a serve process,
// which must hand the killed worker's deliveries back rather than discard them.
func TestKill9Cluster(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River to rescue the killed worker's deliveries")
	}
	ctx := context.Background()
	dbURL := storetest.URL(t)
	const secretsKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	const jwtSecret = "a-test-secret-of-at-least-32-bytes-long"
	mediaStore := "file://" + t.TempDir()
	env := map[string]string{"DATABASE_URL": dbURL, "SECRETS_KEY": secretsKey, "JWT_SECRET": jwtSecret,
		"PROVIDER_API_BASE_OVERRIDE": "true", "DELIVERY_WORKERS": "0", "MEDIA_STORE": mediaStore}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := app.NewServices(cfg, st, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ws, owner, err := svc.Workspaces.Bootstrap(ctx, "Acme", workspace.NewUser{Email: "cluster@example.com", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	p := auth.Principal{WorkspaceID: ws.ID, Kind: auth.KindUser, UserID: owner.ID, Role: owner.Role, Scopes: auth.AllScopes}
	_, key, err := svc.Auth.CreateKey(ctx, p, auth.NewKey{Name: "cluster", Scopes: auth.AllScopes})
	if err != nil {
		t.Fatal(err)
	}
	fake := pt.NewLINE(t)
	// Calls stay in flight long enough for the killed worker to leave some behind.
	fake.SetLatency(300 * time.Millisecond)
	prov := "line"
	ch, err := svc.Channels.Create(ctx, ws.ID, channel.New{Type: "line", Name: "LINE", Provider: &prov,
		Config: map[string]any{"channel_access_token": "line-token", "channel_secret": "line-secret", "api_base": fake.URL}})
	if err != nil {
		t.Fatal(err)
	}
	contacts := make([]uuid.UUID, 10)
	for i := range contacts {
		in, _, err := svc.Conversations.Ingest(ctx, ws.ID, ch.ID, conversation.InboundMessage{Identifier: fmt.Sprintf("Ucluster%02d", i), Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		contacts[i] = in.Contact.ID
	}

	// The processes, on the real commands. A short provider timeout makes River rescue the
	// killed worker's deliveries after twice DELIVERY_SEND_TIMEOUT + 10 s.
	shared := []string{"DATABASE_URL=" + dbURL, "SECRETS_KEY=" + secretsKey, "JWT_SECRET=" + jwtSecret, "MEDIA_STORE=" + mediaStore,
		"PROVIDER_API_BASE_OVERRIDE=true", "DELIVERY_SEND_TIMEOUT=1s", "RATE_LIMITS=off", "LOG_LEVEL=warn"}
	serveB := startChild(t, "serve-b", "serve", append(shared, "DELIVERY_WORKERS=0")...)
	worker2 := startChild(t, "worker-2", "worker", append(shared, "DELIVERY_WORKERS=4")...)
	serveA := startChild(t, "serve-a", "serve", append(shared, "DELIVERY_WORKERS=0")...)
	worker1 := startChild(t, "worker-1", "worker", append(shared, "DELIVERY_WORKERS=4")...)
	lb := &roundRobin{backends: []*child{serveA, serveB}}
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.Out.URL.Scheme, r.Out.URL.Host = "http", "backend" },
		Transport:     lb,
		FlushInterval: -1,
		// The killed process's cut requests are expected.
		ErrorLog: log.New(io.Discard, "", 0),
	})
	defer proxy.Close()

	from, err := st.LastEventID(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	stream := &eventReader{last: from, connected: make(chan string, 1)}
	var streamDone sync.WaitGroup
	streamDone.Go(func() { stream.run(streamCtx, proxy.URL, key) })
	// The proxy's first request is the stream's: serve-a's, the process to be killed.
	if on := <-stream.connected; on != serveA.name {
		t.Fatalf("the stream is on %s, want %s", on, serveA.name)
	}

	// Writes through the proxy until told to stop; the acknowledged ones are recorded.
	var (
		mu              sync.Mutex
		sends, inbound  []uuid.UUID
		acked, answered atomic.Int64
	)
	stop := make(chan struct{})
	var load sync.WaitGroup
	for g := range 4 {
		load.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var path string
				var body map[string]any
				if i%3 == 2 {
					path = "/v1/channels/" + ch.ID.String() + "/inbound"
					body = map[string]any{"identifier": fmt.Sprintf("Ucluster%02d", (g+i)%len(contacts)), "text": "again",
						"external_id": fmt.Sprintf("ext-%d-%d", g, i)}
				} else {
					path = "/v1/contacts/" + contacts[(g+i)%len(contacts)].String() + "/messages"
					body = map[string]any{"type": "text", "text": fmt.Sprint("message ", g, i), "channel_id": ch.ID.String()}
				}
				id, ok := postJSON(proxy.URL+path, key, body)
				answered.Add(1)
				if !ok {
					continue
				}
				mu.Lock()
				if strings.HasSuffix(path, "/inbound") {
					inbound = append(inbound, id)
				} else {
					sends = append(sends, id)
				}
				mu.Unlock()
				acked.Add(1)
			}
		})
	}
	waitFor := func(n int64) {
		deadline := time.Now().Add(60 * time.Second)
		for acked.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d writes acknowledged of %d answered, want %d", acked.Load(), answered.Load(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(30)
	serveA.kill9(t)
	waitFor(60)
	worker1.kill9(t)
	waitFor(90)
	close(stop)
	load.Wait()

	// The deliveries settle: the killed worker's, rescued by River, too.
	deadline := time.Now().Add(150 * time.Second)
	for {
		var queued int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1 AND id = ANY($2) AND status = 'queued'`,
			ws.ID, sends).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged sends still queued\n%s", queued, len(sends), logsOf(serveB, worker2, serveA, worker1))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// (a) Every acknowledged write is in the database, and every send reached the provider.
	var missing, notSent int
	all := append(append([]uuid.UUID{}, sends...), inbound...)
	if err := st.Pool.QueryRow(ctx, `
SELECT count(*) FROM unnest($2::uuid[]) AS a(id)
WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.workspace_id = $1 AND m.id = a.id)`, ws.ID, all).Scan(&missing); err != nil {
		t.Fatal(err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1 AND id = ANY($2) AND status <> 'sent'`,
		ws.ID, sends).Scan(&notSent); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || notSent != 0 {
		t.Errorf("of %d acknowledged writes, %d are missing; of %d acknowledged sends, %d are not sent", len(all), missing, len(sends), notSent)
	}
	// (b) The provider took each send once, under its message id: every key it took is a
	// message of the channel (a send the killed process wrote but never acknowledged may be
	// among them), so no message reached it under two keys.
	delivered, _, retries := fake.Stats()
	for _, id := range sends {
		if n := delivered[id.String()]; n != 1 {
			t.Errorf("send %s reached the provider %d times", id, n)
		}
	}
	keys := make([]string, 0, len(delivered))
	for k := range delivered {
		keys = append(keys, k)
	}
	var known int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1 AND channel_id = $2 AND id::text = ANY($3)`,
		ws.ID, ch.ID, keys).Scan(&known); err != nil {
		t.Fatal(err)
	}
	if known != len(keys) {
		t.Errorf("the provider took %d keys, %d of them no message of the channel", len(keys), len(keys)-known)
	}
	t.Logf("%d sends and %d inbound acknowledged; the provider answered %d retries it had taken with 409", len(sends), len(inbound), retries)

	// (c) The stream, cut with serve-a and resumed through the proxy, has every event once.
	// LastEventID numbers what is still queued first, so upTo covers every committed event.
	upTo, err := st.LastEventID(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for stream.lastID() < upTo && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stopStream()
	streamDone.Wait()
	rows, err := st.Pool.Query(ctx, `SELECT id FROM events WHERE workspace_id = $1 AND id > $2 AND id <= $3 ORDER BY id`, ws.ID, from, upTo)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	rows.Close()
	seen := map[int64]int{}
	for _, id := range stream.seen {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("event %d reached the stream %d times", id, seen[id])
		}
	}
	if len(stream.on) < 2 {
		t.Errorf("the stream was never cut and resumed (connections: %v)", stream.on)
	}
}

// child is a switchboard process run from the test binary (execEnv).
type child struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startChild(t *testing.T, name, command string, env ...string) *child {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := &child{name: name, addr: addr, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	f, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(append(os.Environ(), execEnv+"="+command, "HTTP_ADDR="+addr), env...)
	c.cmd.Stdout, c.cmd.Stderr = f, f
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); f.Close(); close(c.done) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case <-c.done:
			t.Fatalf("%s exited before it was ready\n%s", name, logsOf(c))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30 s\n%s", name, logsOf(c))
		}
	}
}

func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

func logsOf(cs ...*child) string {
	var b strings.Builder
	for _, c := range cs {
		out, _ := os.ReadFile(c.log)
		fmt.Fprintf(&b, "--- %s:\n%s\n", c.name, out)
	}
	return b.String()
}

// roundRobin is the test's load balancer: each request goes to the next backend; one whose
// connection is refused (killed: nothing was sent, so even a POST may go elsewhere) is
// skipped. A request a backend had taken is not retried, as HAProxy's conn-failure retry. It
// names the backend in X-Served-By.
type roundRobin struct {
	backends []*child
	next     atomic.Int64
}

func (lb *roundRobin) RoundTrip(r *http.Request) (*http.Response, error) {
	// A failed attempt closes the body: each attempt gets its own reader.
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	first := lb.next.Add(1) - 1
	for n := range int64(len(lb.backends)) {
		b := lb.backends[(first+n)%int64(len(lb.backends))]
		out := r.Clone(r.Context())
		out.URL.Host, out.Host = b.addr, b.addr
		if r.Body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		var op *net.OpError
		if err != nil && errors.As(err, &op) && op.Op == "dial" {
			continue
		}
		if resp != nil {
			resp.Header.Set("X-Served-By", b.name)
		}
		return resp, err
	}
	return nil, errors.New("no backend accepts connections")
}

// postJSON posts body with the API key and returns the id of the message a 2xx answer names.
func postJSON(u, key string, body any) (uuid.UUID, bool) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return uuid.Nil, false
	}
	defer resp.Body.Close()
	var ans struct {
		Message struct {
			ID uuid.UUID `json:"id"`
		} `json:"message"`
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode/100 != 2 || json.Unmarshal(data, &ans) != nil || ans.Message.ID == uuid.Nil {
		return uuid.Nil, false
	}
	return ans.Message.ID, true
}

// eventReader reads the event stream as EventSource does: an event counts once its blank line
// arrived, and a cut connection is resumed with Last-Event-ID (sooner than the stream's 3 s
// retry, to keep the test short).
type eventReader struct {
	mu        sync.Mutex
	seen      []int64
	last      int64
	on        []string // the backend of each connection
	connected chan string
}

func (r *eventReader) run(ctx context.Context, base, key string) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events/stream", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Last-Event-ID", strconv.FormatInt(r.lastID(), 10))
		resp, err := http.DefaultClient.Do(req)
		if err == nil && resp.StatusCode == http.StatusOK {
			r.mu.Lock()
			r.on = append(r.on, resp.Header.Get("X-Served-By"))
			first := len(r.on) == 1
			r.mu.Unlock()
			if first {
				r.connected <- resp.Header.Get("X-Served-By")
			}
			r.read(resp.Body)
		}
		if resp != nil {
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (r *eventReader) read(body io.Reader) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var id int64 = -1
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id, _ = strconv.ParseInt(v, 10, 64)
		}
		if line == "" && id >= 0 {
			r.mu.Lock()
			r.seen, r.last = append(r.seen, id), id
			r.mu.Unlock()
			id = -1
		}
	}
}

func (r *eventReader) lastID() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}
