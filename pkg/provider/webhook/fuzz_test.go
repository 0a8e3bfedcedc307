package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/webhook"
)

// FuzzVerify runs the Standard Webhooks check, the part of this provider that reads input
// (receivers use it on our deliveries), over the seeds in testdata/fuzz/FuzzVerify. The
// invariants: it never panics, a refusal wraps provider.ErrSignature, and it accepts only a
// timestamp within tolerance and a signature list holding the body's true signature.
func FuzzVerify(f *testing.F) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Unix(1700000000, 0)
	f.Add("msg_1", "1700000000", webhook.Sign(secret, "msg_1", now, []byte(`{}`)), []byte(`{}`))
	f.Fuzz(func(t *testing.T, id, ts, sigs string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sigs)
		err := webhook.Verify(h, body, secret, 0, now)
		if err != nil {
			if !errors.Is(err, provider.ErrSignature) {
				t.Fatalf("refused without ErrSignature: %v", err)
			}
			return
		}
		sec, perr := strconv.ParseInt(h.Get(webhook.HeaderTimestamp), 10, 64)
		if perr != nil {
			t.Fatalf("accepted the timestamp %q", ts)
		}
		if want := webhook.Sign(secret, h.Get(webhook.HeaderID), time.Unix(sec, 0), body); !strings.Contains(h.Get(webhook.HeaderSignature), want[3:]) {
			t.Fatalf("accepted %q, which does not hold %q", sigs, want)
		}
	})
}
