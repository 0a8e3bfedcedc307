package providertest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// LINE is a fake LINE Messaging API that honours X-Line-Retry-Key as LINE does: it takes a
// message as soon as it reads the request, whatever happens to the connection afterwards, and
// answers a key it accepted before with 409 and the accepted request's id, so a retried push is
// never delivered twice. It counts deliveries and requests per key and can hold requests until
// released. It stops with the test.
type LINE struct {
	URL string

	mu        sync.Mutex
	delivered map[string]int // retry key → deliveries accepted
	requests  map[string]int // retry key → requests received
	conflicts int
	hold      chan struct{} // while non-nil, requests wait on it (and are still accepted)
	held      int
}

// NewLINE starts a fake LINE API on 127.0.0.1.
func NewLINE(t testing.TB) *LINE {
	t.Helper()
	f := &LINE{delivered: map[string]int{}, requests: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	// Cleanups run last first: release held requests, then close the server (which waits for them).
	t.Cleanup(srv.Close)
	t.Cleanup(f.Release)
	f.URL = srv.URL
	return f
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
	hold := f.hold
	if hold != nil {
		f.held++
	}
	f.mu.Unlock()
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
