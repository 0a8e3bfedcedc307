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
		_ = g.do(context.Background(), func() { close(hold); <-release })
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
	wg.Go(func() { _ = g.do(context.Background(), func() { close(hold); <-release }) })
	<-hold
	// Fill the queue; the next caller is refused at once instead of waiting a minute.
	for range g.queue {
		wg.Go(func() { _ = g.do(context.Background(), func() {}) })
	}
	for g.waiting.Load() < g.queue {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := g.do(context.Background(), func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("over the queue: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the caller over the queue waited")
	}
	close(release)
	wg.Wait()
}
