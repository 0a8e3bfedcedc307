package media

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestSigner(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 500_000_000, time.UTC)
	clock := now
	s := NewSigner([]byte(strings.Repeat("s", 32)), 15*time.Minute, func() time.Time { return clock })
	ws, id := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	expires, sig := s.Sign(ws, id)
	if want := time.Date(2026, 12, 5, 10, 15, 0, 0, time.UTC); !expires.Equal(want) {
		t.Fatalf("expires %s, want %s (whole seconds)", expires, want)
	}
	other := NewSigner([]byte(strings.Repeat("t", 32)), 15*time.Minute, func() time.Time { return clock })
	_, otherSig := other.Sign(ws, id)
	cases := []struct {
		name    string
		at      time.Time
		ws, id  uuid.UUID
		expires int64
		sig     string
		ok      bool
	}{
		{"as signed", now, ws, id, expires.Unix(), sig, true},
		{"a second before expiry", expires.Add(-time.Second), ws, id, expires.Unix(), sig, true},
		{"at expiry", expires, ws, id, expires.Unix(), sig, false},
		{"after expiry", expires.Add(time.Hour), ws, id, expires.Unix(), sig, false},
		{"a later expiry", now, ws, id, expires.Unix() + 1, sig, false},
		{"another media", now, ws, uuid.Must(uuid.NewV7()), expires.Unix(), sig, false},
		{"another workspace", now, uuid.Must(uuid.NewV7()), id, expires.Unix(), sig, false},
		{"workspace and media swapped", now, id, ws, expires.Unix(), sig, false},
		{"another secret's signature", now, ws, id, expires.Unix(), otherSig, false},
		{"no signature", now, ws, id, expires.Unix(), "", false},
		{"not base64", now, ws, id, expires.Unix(), "***", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock = tc.at
			err := s.Verify(tc.ws, tc.id, tc.expires, tc.sig)
			if (err == nil) != tc.ok {
				t.Fatalf("Verify = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "url_signature_invalid") {
				t.Fatalf("error %v, want url_signature_invalid", err)
			}
		})
	}
}

// The URL key is derived from the secret, never the secret itself: a token signed with
// JWT_SECRET cannot pass for a media URL.
func TestSignerKeyIsDerived(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	s := NewSigner(secret, time.Minute, time.Now)
	if string(s.key) == string(secret) || len(s.key) != 32 {
		t.Fatalf("key %x", s.key)
	}
}

// URL builds the public content route's URL; a signer of another TTL on the same secret (the
// links providers get) signs URLs the route's signer verifies.
func TestSignerURL(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	secret := []byte(strings.Repeat("s", 32))
	route := NewSigner(secret, 15*time.Minute, func() time.Time { return now })
	providers := NewSigner(secret, 7*24*time.Hour, func() time.Time { return now })
	ws, id := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	raw, expires := providers.URL("https://sb.example.com/", ws, id)
	if want := now.Add(7 * 24 * time.Hour); !expires.Equal(want) {
		t.Errorf("expires %s, want %s", expires, want)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != "https://sb.example.com/v1/media/"+id.String()+"/content" {
		t.Fatalf("URL %q", raw)
	}
	q := u.Query()
	exp, _ := strconv.ParseInt(q.Get("expires"), 10, 64)
	if q.Get("workspace") != ws.String() || exp != expires.Unix() {
		t.Fatalf("query %v", q)
	}
	if err := route.Verify(ws, id, exp, q.Get("signature")); err != nil {
		t.Fatalf("the content route refuses a provider's URL: %v", err)
	}
}
