package providertest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// LINE is a fake LINE Messaging API that honours X-Line-Retry-Key as LINE does: it takes a
// message as soon as it reads the request, whatever happens to the connection afterwards, and
// answers a key it accepted before with 409 and the accepted request's id, so a retried push is
// never delivered twice. It counts deliveries and requests per key, can hold requests until
// released, and can answer late. NewLINE's stops with the test, StartLINE's when stopped.
type LINE struct {
	URL string

	mu        sync.Mutex
	delivered map[string]int // retry key → deliveries accepted
	requests  map[string]int // retry key → requests received
	conflicts int
	hold      chan struct{} // while non-nil, requests wait on it (and are still accepted)
	held      int
	latency   time.Duration // how long an accepted request waits for its answer
}

// NewLINE starts a fake LINE API on 127.0.0.1 that stops with the test.
func NewLINE(t testing.TB) *LINE {
	t.Helper()
	f, stop := StartLINE()
	t.Cleanup(stop)
	return f
}

// StartLINE starts a fake LINE API on 127.0.0.1 outside a test (the cluster benchmark's
// provider); stop releases held requests and closes it.
func StartLINE() (f *LINE, stop func()) {
	f = &LINE{delivered: map[string]int{}, requests: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = srv.URL
	// Release held requests first: closing the server waits for them.
	return f, func() { f.Release(); srv.Close() }
}

// SetLatency makes every later request wait d after it is accepted, before its answer: as a
// real API's round trip does, it keeps calls in flight for a killed worker to leave behind.
func (f *LINE) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

func (f *LINE) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	key := r.Header.Get("X-Line-Retry-Key")
	f.mu.Lock()
	f.requests[key]++
	seen := f.delivered[key] > 0
	if !seen {
		f.delivered[key]++
	} else {
		f.conflicts++
	}
	hold, latency := f.hold, f.latency
	if hold != nil {
		f.held++
	}
	f.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if seen {
		w.Header().Set("X-Line-Accepted-Request-Id", "req-"+key)
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"message":"The retry key is already accepted"}`)
		return
	}
	fmt.Fprintf(w, `{"sentMessages":[{"id":"line-%s","quoteToken":"q"}]}`, key)
}

// Hold makes new requests wait until Release.
func (f *LINE) Hold() {
	f.mu.Lock()
	f.hold = make(chan struct{})
	f.mu.Unlock()
}

// Release answers the requests held; later ones are answered at once. It may be called again.
func (f *LINE) Release() {
	f.mu.Lock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
	f.mu.Unlock()
}

// Held is how many requests have been held, in all.
func (f *LINE) Held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held
}

// Calls is how many requests arrived, in all.
func (f *LINE) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.requests {
		n += v
	}
	return n
}

// Stats are the deliveries and requests per retry key, and how many requests repeated a key.
func (f *LINE) Stats() (delivered, requests map[string]int, conflicts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.delivered), maps.Clone(f.requests), f.conflicts
}
