// Package sandbox is the built-in provider of channels created without one (DESIGN §4): it
// delivers nothing outside the server and reports every message sent, then delivered, so demos,
// tests and frontends can use every channel type without accounts at Meta or Twilio.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
)

const name = "sandbox"

// Statuses are the receipts the sandbox reports for every accepted message, in order.
var Statuses = []string{provider.StatusSent, provider.StatusDelivered}

// Client accepts every well-formed message.
type Client struct{}

var _ provider.Sender = (*Client)(nil)

// New returns a sandbox client.
func New() *Client { return &Client{} }

// Send accepts the message without any network call. The provider message id is
// "sandbox-" + the message id, so a retried send gets the same id.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	if err := ctx.Err(); err != nil {
		return provider.Result{}, provider.FromTransport(name, err)
	}
	if m.To == "" {
		return provider.Result{}, provider.Invalid(name, "the message has no recipient")
	}
	id := m.ID
	if id == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	return provider.Result{ProviderMessageID: "sandbox-" + id}, nil
}

// Receipts returns the receipts the sandbox reports for an accepted message: sent at at, then
// delivered at at. The dispatcher applies them right after Send.
func Receipts(res provider.Result, at time.Time) []provider.Receipt {
	receipts := make([]provider.Receipt, len(Statuses))
	for i, s := range Statuses {
		receipts[i] = provider.Receipt{ProviderMessageID: res.ProviderMessageID, Status: s, At: at}
	}
	return receipts
}

// Limits take anything: the sandbox delivers nothing.
var Limits = provider.Limits{Name: "The sandbox", Any: true}
