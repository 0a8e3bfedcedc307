package password

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestGateBoundsAndRefuses(t *testing.T) {
	g := NewGate(1, 50*time.Millisecond)
	h, err := g.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := g.Verify(context.Background(), h, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("verify through the gate: %v %v", ok, err)
	}

	// Hold the only turn: a second check waits its 50 ms and is refused with ErrBusy, which
	// tells the client when to retry.
	hold, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = g.do(context.Background(), 1, func() { close(hold); <-release })
	})
	<-hold
	_, err = g.Verify(context.Background(), h, "wrong")
	if !errors.Is(err, ErrBusy) || ErrBusy.RetryAfter <= 0 {
		t.Fatalf("verify while the gate is full: %v", err)
	}
	// A client that leaves while waiting is refused too, not left waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Verify(ctx, h, "wrong"); !errors.Is(err, ErrBusy) {
		t.Fatalf("verify with a cancelled context: %v", err)
	}
	close(release)
	wg.Wait()
	if g.running.Load() != 0 || g.peak.Load() != 1 || g.busy.Load() != 2 {
		t.Fatalf("running %d, peak %d, refused %d; want 0, 1, 2", g.running.Load(), g.peak.Load(), g.busy.Load())
	}
}

func TestGateQueueIsBounded(t *testing.T) {
	g := NewGate(1, time.Minute)
	hold, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { _ = g.do(context.Background(), 1, func() { close(hold); <-release }) })
	<-hold
	// Fill the queue; the next caller is refused at once instead of waiting a minute.
	for range g.queue {
		wg.Go(func() { _ = g.do(context.Background(), 1, func() {}) })
	}
	for g.waiting.Load() < g.queue {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := g.do(context.Background(), 1, func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("over the queue: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the caller over the queue waited")
	}
	close(release)
	wg.Wait()
}

func TestVerifyFirstRunsEveryCheckInOneTurn(t *testing.T) {
	a, err := Hash("first passphrase")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash("second passphrase")
	if err != nil {
		t.Fatal(err)
	}
	g := NewGate(1, time.Second)
	for _, tc := range []struct {
		plain string
		want  int
	}{{"first passphrase", 0}, {"second passphrase", 1}, {"neither passphrase", -1}} {
		before := g.done.Load()
		got, err := g.VerifyFirst(context.Background(), []string{a, b}, tc.plain)
		if err != nil || got != tc.want {
			t.Errorf("VerifyFirst(%q) = %d, %v; want %d", tc.plain, got, err, tc.want)
		}
		if ran := g.done.Load() - before; ran != 2 {
			t.Errorf("VerifyFirst(%q) ran %d hashes, want both, whatever matched", tc.plain, ran)
		}
	}
	if p := g.peak.Load(); p != 1 {
		t.Errorf("peak %d, want 1: the checks share one turn", p)
	}
}
