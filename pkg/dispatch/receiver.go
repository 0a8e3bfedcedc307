package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/provider"
)

// Ingester stores a customer's inbound message (conversation.Service.Ingest, the path behind
// POST /v1/channels/{id}/inbound).
type Ingester interface {
	Ingest(ctx context.Context, ws, channelID uuid.UUID, in conversation.InboundMessage) (conversation.Ingested, bool, error)
}

// Errors of provider webhooks.
var (
	ErrNoWebhook = errkind.New(errkind.KindNotFound, "webhook_not_found",
		"No such provider webhook: the channel does not use this provider, or the provider has no webhooks here.")
	ErrHandshake = errkind.New(errkind.KindForbidden, "handshake_refused",
		"The verification request does not match the channel's verify token.")
)

// Received counts what one webhook call carried.
type Received struct {
	Inbound    int // messages ingested
	Duplicates int // messages already ingested (same provider message id)
	Skipped    int // messages that could not be ingested (logged)
	Receipts   int // messages whose status moved
}

// Receiver applies provider webhooks to a channel.
type Receiver struct {
	store   Store
	secrets Secrets
	ingest  Ingester
	files   Files
	log     *slog.Logger
	now     func() time.Time
}

// Receiver returns the Receiver of provider webhooks on the dispatcher's store, secrets, log
// and clock, ingesting inbound messages through in and storing the files a webhook carries
// itself (an email's) in files.
func (d *Dispatcher) Receiver(in Ingester, files Files) *Receiver {
	return NewReceiver(d.store, d.secrets, in, files, d.log, d.now)
}

// NewReceiver builds a Receiver.
func NewReceiver(st Store, sec Secrets, in Ingester, files Files, log *slog.Logger, now func() time.Time) *Receiver {
	return &Receiver{store: st, secrets: sec, ingest: in, files: files, log: log, now: now}
}

// channel loads the channel a webhook names and checks that it uses the provider named.
func (r *Receiver) channel(ctx context.Context, channelID uuid.UUID, providerName string) (channel.Channel, adapter, settings, error) {
	ch, err := r.store.ChannelByID(ctx, channelID)
	if err != nil {
		return channel.Channel{}, adapter{}, settings{}, err
	}
	if ch.Provider != providerName {
		return channel.Channel{}, adapter{}, settings{}, ErrNoWebhook
	}
	a, s, err := open(ch, r.secrets)
	if err != nil {
		return channel.Channel{}, adapter{}, settings{}, err
	}
	if a.verify == nil {
		return channel.Channel{}, adapter{}, settings{}, ErrNoWebhook
	}
	return ch, a, s, nil
}

// Receive verifies a provider webhook with the provider's own signature, before reading
// anything from it, then ingests its inbound messages (deduplicated by the provider's message
// id) and applies its receipts. A bad or missing signature is provider.ErrSignature and nothing
// is stored. A message that cannot be ingested (no text, an unreadable identifier) is logged
// and skipped, so the provider does not retry it forever; a storage failure is an error, so the
// provider retries the call and deduplication absorbs what was already stored.
//
// A message's files are ingested as attachments: those the provider keeps (by id or link) as
// pending, each with a fetch job that ingestion inserts in the message's transaction (see
// Fetcher); those the webhook carries (an email's parts) are stored in the media store first,
// without a contact, and ingestion gives them to the message's contact in its transaction. A
// replayed or skipped message's stored files are deleted again. Whatever a fetch does later,
// the message is kept and the webhook answered.
func (r *Receiver) Receive(ctx context.Context, channelID uuid.UUID, providerName string, w Webhook) (Received, error) {
	ch, a, s, err := r.channel(ctx, channelID, providerName)
	if err != nil {
		return Received{}, err
	}
	if err := a.verify(s, w); err != nil {
		return Received{}, err
	}
	ev, err := a.parse(w.Body)
	if err != nil {
		return Received{}, err
	}
	storable(reflect.ValueOf(&ev).Elem())
	log := r.log.With("workspace_id", ch.WorkspaceID.String(), "channel_id", ch.ID.String(), "provider", ch.Provider)
	var out Received
	now := r.now().UTC()
	for _, in := range ev.Inbound {
		msg, err := r.inbound(ctx, ch.WorkspaceID, in, now)
		if err != nil {
			return out, err
		}
		_, replayed, err := r.ingest.Ingest(ctx, ch.WorkspaceID, ch.ID, msg)
		if err != nil || replayed {
			r.forget(ctx, log, ch.WorkspaceID, msg.Attachments)
		}
		switch e, ok := errkind.As(err); {
		case err == nil && replayed:
			out.Duplicates++
		case err == nil:
			out.Inbound++
		case ok && e.Kind != errkind.KindUnavailable:
			out.Skipped++
			log.Warn("provider webhook: inbound message skipped", "external_id", in.ExternalID, "code", e.Code, "detail", e.Detail)
		default:
			return out, fmt.Errorf("ingest provider message: %w", err)
		}
	}
	for _, rc := range ev.Receipts {
		n, err := r.store.ApplyReceipt(ctx, ch.WorkspaceID, ch.ID, rc, now)
		if err != nil {
			return out, err
		}
		out.Receipts += int(n)
	}
	log.Info("provider webhook", "inbound", out.Inbound, "duplicates", out.Duplicates, "skipped", out.Skipped,
		"receipts", len(ev.Receipts), "statuses_moved", out.Receipts)
	return out, nil
}

// Handshake answers a provider's webhook verification request (Meta's hub.challenge) and
// returns the challenge to echo.
func (r *Receiver) Handshake(ctx context.Context, channelID uuid.UUID, providerName string, query url.Values) (string, error) {
	_, a, s, err := r.channel(ctx, channelID, providerName)
	if err != nil {
		return "", err
	}
	if a.handshake == nil {
		return "", ErrNoWebhook
	}
	challenge, err := a.handshake(s, query)
	if errors.Is(err, provider.ErrSignature) {
		return "", ErrHandshake
	}
	return challenge, err
}

// inbound turns a provider's message into the ingestion input: its files are pending
// attachments (fetched later by the provider's id or link), or, when the webhook carries the
// bytes, media stored now. A file the media store refuses (over the cap, a refused type) is a
// failed attachment with the reason; a failure of the store itself is an error, so the
// provider retries the webhook.
func (r *Receiver) inbound(ctx context.Context, ws uuid.UUID, in provider.Inbound, now time.Time) (conversation.InboundMessage, error) {
	out := conversation.InboundMessage{Identifier: in.From, Text: in.Text}
	if in.ExternalID != "" {
		id := in.ExternalID
		out.ExternalID = &id
	}
	if in.Subject != "" && in.Text == "" {
		out.Text = in.Subject
	}
	for _, a := range in.Attachments {
		if len(out.Attachments) == conversation.MaxAttachments {
			break
		}
		att := conversation.Attachment{MimeType: a.MIMEType, Filename: a.Filename}
		switch {
		case a.Data != nil:
			m, err := r.files.Put(ctx, ws, bytes.NewReader(a.Data), media.New{Filename: a.Filename})
			if e, ok := errkind.As(err); ok {
				att.Status, att.Reason = conversation.AttachmentFailed, refusal(e, r.files.MaxBytes())
				break
			}
			if err != nil {
				r.forget(ctx, r.log, ws, out.Attachments)
				return conversation.InboundMessage{}, fmt.Errorf("store inbound media: %w", err)
			}
			att = conversation.Attachment{MediaID: &m.ID, MimeType: m.MimeType, Filename: m.Filename, Size: m.Size,
				Status: conversation.AttachmentReady}
		case a.ID != "" || a.URL != "":
			att.Status, att.Ref, att.URL = conversation.AttachmentPending, a.ID, a.URL
		default:
			continue
		}
		out.Attachments = append(out.Attachments, att)
	}
	// A provider's clock may run ahead of ours; such a time becomes now.
	if !in.ReceivedAt.IsZero() && !in.ReceivedAt.After(now) {
		at := in.ReceivedAt
		out.ReceivedAt = &at
	}
	if name := strings.TrimSpace(in.ContactName); name != "" {
		first, last, _ := strings.Cut(name, " ")
		out.Contact = contact.Fields{FirstName: &first}
		if last = strings.TrimSpace(last); last != "" {
			out.Contact.LastName = &last
		}
	}
	return out, nil
}

// refusal is why the media store refused a file a webhook carried, for people.
func refusal(e *errkind.Error, limit int64) string {
	reason, _ := failure(e, false, limit)
	return reason
}

// forget deletes the media a webhook stored for a message that was not ingested (a replay
// keeps the first delivery's, a skipped message has none): the rows go, and the media sweep
// deletes their blobs unless another row shares them.
func (r *Receiver) forget(ctx context.Context, log *slog.Logger, ws uuid.UUID, atts []conversation.Attachment) {
	for _, a := range atts {
		if a.MediaID == nil {
			continue
		}
		if err := r.store.DeleteMedia(context.WithoutCancel(ctx), ws, *a.MediaID); err != nil {
			log.Warn("provider webhook: stored media not deleted", "media_id", a.MediaID.String(), "error", err.Error())
		}
	}
}

// storable makes every string in a parsed webhook storable as PostgreSQL text, in place: a
// NUL character (which PostgreSQL refuses) and bytes that are not UTF-8 (a mail in another
// charset) become U+FFFD. A provider's message must not fail on them: the 500 made the
// provider redeliver, forever, a message that never went in. It walks the Event by
// reflection so a field added to provider.Inbound or provider.Receipt is covered too.
func storable(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			v.SetString(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD"))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			storable(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes (an email's files), not text
		}
		for i := range v.Len() {
			storable(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				storable(v.Field(i))
			}
		}
	}
}
