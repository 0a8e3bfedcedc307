package dispatch_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/job"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/store"
)

// otherProcess opens a second store on the env's database, as another process would.
func (e *env) otherProcess(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *store.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(e.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	if dial != nil {
		cfg.ConnConfig.DialFunc = dial
	}
	st, err := store.OpenPool(context.Background(), cfg, e.q, time.Now)
	if err != nil {
		t.Fatalf("open second store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

func (e *env) waitAll(t *testing.T, ids []uuid.UUID, want conversation.MessageStatus, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var n int
		if err := e.st.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM messages WHERE workspace_id = $1 AND id = ANY($2) AND status = $3`, e.ws, ids, string(want)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == len(ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages are %s after %s", n, len(ids), want, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoDispatchersDeliverEachMessageOnce: two dispatchers (separate pools, as two
// processes) share 1000 queued messages; the provider receives each exactly once.
func TestTwoDispatchersDeliverEachMessageOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 deliveries")
	}
	e := newEnv(t)
	fake := pt.NewLINE(t)
	other := e.otherProcess(t, nil)
	e.dispatcher(t, dispatch.Config{Workers: 8}, job.Config{ID: "process-a"})
	e.dispatcherOn(t, other, dispatch.Config{Workers: 8}, job.Config{ID: "process-b"})
	ch := e.channel(t, "line", "line", map[string]any{"channel_access_token": "line-token", "channel_secret": "s", "api_base": fake.URL})
	to := e.customer(t, ch, "Ucluster")
	const n = 1000
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = e.queue(t, to, outgoing{Text: "bulk"})
	}
	e.waitAll(t, ids, conversation.StatusSent, 90*time.Second)

	delivered, requests, conflicts := fake.Stats()
	if len(delivered) != n || conflicts != 0 {
		t.Fatalf("provider got %d distinct messages and %d repeats, want %d and 0", len(delivered), conflicts, n)
	}
	for _, id := range ids {
		if requests[id.String()] != 1 {
			t.Fatalf("message %s reached the provider %d times", id, requests[id.String()])
		}
	}
	// Both processes took part.
	rows, err := e.st.Pool.Query(context.Background(),
		`SELECT attempted_by[1], count(*) FROM river_job WHERE kind = $1 GROUP BY 1`, dispatch.JobKind)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for rows.Next() {
		var who string
		var c int
		if err := rows.Scan(&who, &c); err != nil {
			t.Fatal(err)
		}
		by[who] = c
	}
	if by["process-a"] == 0 || by["process-b"] == 0 {
		t.Errorf("work split %v: both processes should have delivered", by)
	}
	t.Logf("work split: %v", by)
}

// killSwitch cuts a "process" off from the database at once, as kill -9 would: every open
// connection drops and no new one can be made.
type killSwitch struct {
	mu     sync.Mutex
	killed bool
	conns  []net.Conn
}

func (k *killSwitch) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.killed {
		return nil, errors.New("process killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		k.conns = append(k.conns, c)
	}
	return c, err
}

func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.killed = true
	for _, c := range k.conns {
		_ = c.Close()
	}
}

// TestKilledWorkerIsRescued: a worker dies while its provider calls are in flight (the
// provider already has those messages). After the rescue timeout another process delivers
// every message; none reaches the customer twice, because every attempt at a message carries
// the same LINE retry key and the provider answers a repeat with 409.
func TestKilledWorkerIsRescued(t *testing.T) {
	e := newEnv(t)
	fake := pt.NewLINE(t)
	ch := e.channel(t, "line", "line", map[string]any{"channel_access_token": "line-token", "channel_secret": "s", "api_base": fake.URL})
	to := e.customer(t, ch, "Ukilled")

	var sw killSwitch
	doomed := e.otherProcess(t, sw.dial)
	delivery := dispatch.Config{Workers: 4, SendTimeout: time.Second}
	timing := job.Config{JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second}
	// The doomed process leaves River's maintenance (the rescuer) to the survivor.
	cfgA := timing
	cfgA.ID, cfgA.LeaderElectionDisabled = "doomed", true
	a := e.deliverer(t, doomed, delivery, cfgA)
	fake.Hold()
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 20
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = e.queue(t, to, outgoing{Text: "important"})
	}
	deadline := time.Now().Add(10 * time.Second)
	for fake.Held() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the doomed worker made %d provider calls, want 4", fake.Held())
		}
		time.Sleep(10 * time.Millisecond)
	}
	killedAt := time.Now()
	sw.kill()
	fake.Release() // the provider answers, but nobody alive reads the answer into the database
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.StopAndCancel(ctx)
	}()

	// The survivor starts once the doomed jobs are past RescueAfter, so its rescuer (which
	// runs when it becomes leader, then every 30 s) finds them on its first pass.
	time.Sleep(time.Until(killedAt.Add(timing.RescueAfter + 500*time.Millisecond)))
	cfgB := timing
	cfgB.ID = "survivor"
	e.dispatcher(t, delivery, cfgB)
	e.waitAll(t, ids, conversation.StatusSent, 60*time.Second)

	delivered, requests, conflicts := fake.Stats()
	for _, id := range ids {
		if delivered[id.String()] != 1 {
			t.Errorf("message %s delivered %d times", id, delivered[id.String()])
		}
	}
	if conflicts != 4 {
		t.Errorf("provider answered %d repeated retry keys with 409, want 4 (the doomed worker's calls, retried)", conflicts)
	}
	retried := 0
	for _, id := range ids {
		if requests[id.String()] == 2 {
			retried++
			if m := e.message(t, id); m.Attempts != 2 {
				t.Errorf("rescued message %s has %d attempts, want 2", id, m.Attempts)
			}
		}
	}
	if retried != 4 {
		t.Errorf("%d messages were called twice, want the doomed worker's 4", retried)
	}
}

// TestGracefulStop: Stop lets a delivery in flight finish; when its time is up it cancels the
// delivery instead, which releases the job at once for another process.
func TestGracefulStop(t *testing.T) {
	e := newEnv(t)
	fake := pt.NewLINE(t)
	ch := e.channel(t, "line", "line", map[string]any{"channel_access_token": "line-token", "channel_secret": "s", "api_base": fake.URL})
	to := e.customer(t, ch, "Ustop")
	start := func(id string) *job.Home {
		d := e.deliverer(t, e.st, dispatch.Config{Workers: 2}, job.Config{ID: id})
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return d
	}
	waitHeld := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for fake.Held() < n {
			if time.Now().After(deadline) {
				t.Fatalf("provider calls in flight: %d, want %d", fake.Held(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Enough time: the delivery in flight completes and Stop returns cleanly.
	fake.Hold()
	d := start("graceful")
	id := e.queue(t, to, outgoing{Text: "finish me"})
	waitHeld(1)
	go func() { time.Sleep(300 * time.Millisecond); fake.Release() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := d.Stop(ctx); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	cancel()
	m := e.message(t, id)
	if m.Status != conversation.StatusSent {
		t.Fatalf("after a graceful stop the message is %s, want sent", m.Status)
	}

	// Not enough time: the delivery is cancelled and released, and the next process
	// delivers it (the provider already had it: the retry key makes that a 409, not a repeat).
	fake.Hold()
	d = start("impatient")
	id = e.queue(t, to, outgoing{Text: "release me"})
	waitHeld(2)
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	_ = d.Stop(ctx)
	cancel()
	fake.Release()
	if m := e.message(t, id); m.Status != conversation.StatusQueued {
		t.Fatalf("a cancelled delivery left the message %s, want queued", m.Status)
	}
	e.dispatcher(t, dispatch.Config{}, job.Config{ID: "next"})
	m = e.waitStatus(t, id, conversation.StatusSent, waitLong)
	if m.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the cancelled one and the delivery)", m.Attempts)
	}
	delivered, _, _ := fake.Stats()
	if delivered[id.String()] != 1 {
		t.Errorf("delivered %d times", delivered[id.String()])
	}
}
