package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/provider"
)

// FetchKind is the River job kind that brings a customer's file into the media store.
const FetchKind = "fetch_media"

// FetchQueue is the queue fetches run on, apart from deliveries: a slow download never holds
// up a send.
const FetchQueue = "media"

// maxFetchRuns bounds the runs of one fetch: the first and seven retries after job.Backoff
// (about two minutes in all with the default retry settings), then the attachment fails.
const maxFetchRuns = 8

// FetchArgs are a fetch job's arguments: which attachment of which message, and where the
// provider keeps its file. They never carry the file's bytes, nor a credential: the channel's
// secrets are opened when the job runs.
type FetchArgs struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	MessageID   uuid.UUID `json:"message_id"`
	// Index is the attachment's place in the message's attachments.
	Index     int       `json:"index"`
	ChannelID uuid.UUID `json:"channel_id"`
	// MediaID is the provider's id of the file (a WhatsApp media id, a Telegram file_id, a
	// LINE message id); URL the provider's link to it, when it gave one instead.
	MediaID string `json:"media_id,omitempty"`
	URL     string `json:"url,omitempty"`
	// MimeType and Filename are what the webhook said of the file.
	MimeType string `json:"mime_type,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Kind names the job kind for River.
func (FetchArgs) Kind() string { return FetchKind }

// InsertOpts puts fetches on their queue.
func (FetchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: FetchQueue, MaxAttempts: maxFetchRuns}
}

// Fetches are the fetch jobs of an ingested message: one per pending attachment, in order.
func Fetches(m conversation.Message) []FetchArgs {
	var out []FetchArgs
	for i, a := range m.Attachments {
		if a.Status != conversation.AttachmentPending {
			continue
		}
		out = append(out, FetchArgs{WorkspaceID: m.WorkspaceID, MessageID: m.ID, Index: i, ChannelID: m.ChannelID,
			MediaID: a.Ref, URL: a.URL, MimeType: a.MimeType, Filename: a.Filename})
	}
	return out
}

// FetchStore is what fetching needs from persistence.
type FetchStore interface {
	// Message reads a message; conversation.ErrMessageNotFound when it went (with its contact).
	Message(ctx context.Context, ws, id uuid.UUID) (conversation.Message, error)
	// Channel reads a channel; channel.ErrNotFound when there is none.
	Channel(ctx context.Context, ws, id uuid.UUID) (channel.Channel, error)
	// SettleAttachment replaces the message's attachment at index, if it is still pending, and
	// publishes message.updated, in one transaction; it reports whether it did.
	SettleAttachment(ctx context.Context, ws, id uuid.UUID, index int, a conversation.Attachment, at time.Time) (bool, error)
	// DeleteMedia deletes a media row (its blob goes with the media sweep).
	DeleteMedia(ctx context.Context, ws, id uuid.UUID) error
}

// Files is the media store (media.Service): where fetched files go.
type Files interface {
	Put(ctx context.Context, ws uuid.UUID, r io.Reader, in media.New) (media.Media, error)
	// MaxBytes is the cap on a file (MEDIA_MAX_BYTES).
	MaxBytes() int64
}

// FetchConfig tunes the fetcher.
type FetchConfig struct {
	// Workers is how many fetches this process runs at once; 0: none (another process
	// fetches).
	Workers int
	// ProviderAllowLoopback lets provider API overrides and the links providers give point at
	// loopback (PROVIDER_API_BASE_OVERRIDE: tests, staging); other internal addresses stay
	// refused.
	ProviderAllowLoopback bool
}

// Fetcher brings customers' files into the media store: the receiver stores a message whose
// files a provider delivers by id or by link as pending attachments, and ingestion inserts a
// fetch job for each in the message's transaction. A fetch downloads the file from the
// provider as a stream into the media store (capped at MEDIA_MAX_BYTES while it streams),
// owned by the message's contact so that deleting the contact deletes it, then settles the
// attachment (ready, with the media's id, sniffed type and size) and publishes
// message.updated in one transaction. Transient failures (no answer, 5xx, 429) retry with
// job.Backoff; permanent ones (404, 403, a file over the cap or of a refused type) and the
// last retry settle it failed with a reason for people. The message is kept either way.
type Fetcher struct {
	cfg     FetchConfig
	store   FetchStore
	secrets Secrets
	files   Files
	log     *slog.Logger
	now     func() time.Time
	http    clients
}

// NewFetcher builds the fetcher.
func NewFetcher(cfg FetchConfig, st FetchStore, sec Secrets, files Files, log *slog.Logger, now func() time.Time) *Fetcher {
	return &Fetcher{cfg: cfg, store: st, secrets: sec, files: files, log: log, now: now,
		http: clients{
			api:     &http.Client{Transport: http.DefaultTransport},
			apiBase: egress.Client(cfg.ProviderAllowLoopback, 0),
			// A link in a webhook names a host the provider chose (its CDN) or, for LINE's
			// external content and a forged Viber message, anyone: never an internal one.
			media: egress.Client(cfg.ProviderAllowLoopback, 0),
		}}
}

// Register makes h run this process's fetch workers (FetchConfig.Workers; none: nothing).
func (f *Fetcher) Register(h *job.Home) error {
	return job.AddWorker(h, f.cfg.Workers, &fetchWorker{f: f})
}

type fetchWorker struct {
	river.WorkerDefaults[FetchArgs]
	f *Fetcher
}

func (w *fetchWorker) Work(ctx context.Context, j *river.Job[FetchArgs]) error {
	return w.f.fetch(ctx, j.Args, j.Attempt, j.Attempt >= j.MaxAttempts)
}

// fetch runs one attempt at an attachment. final says River will not run the job again.
func (f *Fetcher) fetch(ctx context.Context, args FetchArgs, attempt int, final bool) error {
	ws := args.WorkspaceID
	log := f.log.With("workspace_id", ws.String(), "message_id", args.MessageID.String(), "attachment", args.Index,
		"channel_id", args.ChannelID.String())
	m, err := f.store.Message(ctx, ws, args.MessageID)
	if errors.Is(err, conversation.ErrMessageNotFound) {
		log.Info("media fetch skipped: the message no longer exists")
		return nil
	}
	if err != nil {
		log.Warn("media fetch: cannot load the message; will retry", "error", err.Error())
		return err
	}
	if args.Index < 0 || args.Index >= len(m.Attachments) || m.Attachments[args.Index].Status != conversation.AttachmentPending {
		return nil // settled already: a duplicate or rescued job
	}
	ch, err := f.store.Channel(ctx, ws, args.ChannelID)
	if errors.Is(err, channel.ErrNotFound) {
		return f.failed(ctx, log, args, attempt, final, permanentErr("the channel no longer exists"), nil)
	}
	if err != nil {
		return err
	}
	a, s, err := open(ch, f.secrets)
	if err != nil {
		// An unknown provider, or secrets this server cannot open: nothing a retry fixes.
		log.Warn("media fetch: cannot open the channel's provider", "error", err.Error())
		return f.failed(ctx, log, args, attempt, final, permanentErr("the channel's provider settings cannot be opened"), nil)
	}
	if a.fetch == nil {
		return f.failed(ctx, log, args, attempt, final, permanentErr("the provider offers no media download"), nil)
	}
	log = log.With("provider", ch.Provider)
	limit := f.files.MaxBytes()
	body, info, err := a.fetch(ctx, s, f.http, provider.Attachment{ID: args.MediaID, URL: args.URL}, limit)
	if err != nil {
		return f.failed(ctx, log, args, attempt, final, err, s.secretValues())
	}
	defer body.Close()
	if info.Size > limit {
		// Declared too big (Content-Length): refused before a byte of it is read.
		return f.failed(ctx, log, args, attempt, final, media.ErrTooLarge, nil)
	}
	stored, err := f.files.Put(ctx, ws, body, media.New{Filename: firstNonEmpty(args.Filename, info.Filename), ContactID: &m.ContactID})
	if errors.Is(err, contact.ErrNotFound) {
		log.Info("media fetch skipped: the contact no longer exists")
		return nil
	}
	if err != nil {
		return f.failed(ctx, log, args, attempt, final, err, s.secretValues())
	}
	ready := conversation.Attachment{MediaID: &stored.ID, MimeType: stored.MimeType, Filename: stored.Filename,
		Size: stored.Size, Status: conversation.AttachmentReady}
	var settled bool
	err = record(ctx, func(ctx context.Context) (err error) {
		settled, err = f.store.SettleAttachment(ctx, ws, args.MessageID, args.Index, ready, f.clock())
		return err
	})
	if err == nil && !settled {
		// Another run settled it first (a rescued job): this copy is not referred to.
		err = f.store.DeleteMedia(context.WithoutCancel(ctx), ws, stored.ID)
	}
	if err != nil {
		log.Warn("media fetch: stored but not settled; will retry", "media_id", stored.ID.String(), "error", err.Error())
		return fmt.Errorf("settle attachment: %w", err)
	}
	if settled {
		log.Info("media fetched", "attempt", attempt, "media_id", stored.ID.String(), "size", stored.Size, "mime_type", stored.MimeType)
	}
	return nil
}

func (f *Fetcher) clock() time.Time { return f.now().UTC().Truncate(time.Microsecond) }

// permanentErr is a failure no retry can fix, in words for people.
type permanentErr string

func (p permanentErr) Error() string { return string(p) }

// failed settles a failed attempt: a permanent error or the last attempt fails the attachment
// with a reason (and cancels the job); other errors go back to River, which retries after
// job.Backoff. A job cancelled by shutdown is released at once for another worker.
func (f *Fetcher) failed(ctx context.Context, log *slog.Logger, args FetchArgs, attempt int, final bool, err error, secrets []string) error {
	reason, permanent := failure(err, args.MediaID != "", f.files.MaxBytes())
	reason = provider.Redact(reason, secrets...)
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		log = log.With("cause", provider.Redact(pe.Unwrap().Error(), secrets...))
	}
	if !permanent && errors.Is(ctx.Err(), context.Canceled) {
		log.Info("media fetch: interrupted by shutdown; released for another worker", "attempt", attempt)
		return river.JobSnooze(0)
	}
	if !permanent && !final {
		log.Info("media fetch: transient error; will retry", "attempt", attempt, "reason", reason)
		return fmt.Errorf("fetch media: %s", reason)
	}
	if !permanent {
		reason = fmt.Sprintf("%s (gave up after %d attempts)", reason, attempt)
	}
	if r := []rune(reason); len(r) > maxErrorText {
		reason = string(r[:maxErrorText])
	}
	failed := conversation.Attachment{MimeType: args.MimeType, Filename: args.Filename, URL: args.URL,
		Status: conversation.AttachmentFailed, Reason: reason}
	if rerr := record(ctx, func(ctx context.Context) error {
		_, err := f.store.SettleAttachment(ctx, args.WorkspaceID, args.MessageID, args.Index, failed, f.clock())
		return err
	}); rerr != nil {
		return fmt.Errorf("save failed attachment: %w", rerr)
	}
	log.Warn("media fetch: failed", "attempt", attempt, "permanent", permanent, "reason", reason)
	return river.JobCancel(fmt.Errorf("fetch media: %s", reason))
}

// failure is the reason a fetch failed, in words for the people reading the conversation, and
// whether retrying is pointless. byID says the file was asked for by the provider's id (or
// else by a link); limit is the size cap.
func failure(err error, byID bool, limit int64) (string, bool) {
	what := "media URL"
	if byID {
		what = "media id"
	}
	var pe *provider.Error
	var p permanentErr
	switch {
	case errors.Is(err, media.ErrTooLarge), errors.As(err, &pe) && pe.Code == provider.CodeTooLarge:
		return "the file is over the " + media.SizeText(limit) + " limit", true
	case errors.Is(err, media.ErrTypeRefused):
		// "Files of type application/x-msdownload are not accepted."
		e, _ := errkind.As(err)
		return strings.TrimSuffix(strings.Replace(e.Detail, "Files", "files", 1), "."), true
	case errors.Is(err, egress.ErrForbiddenAddress):
		return "the " + what + " points at an address that is not allowed", true
	case errors.As(err, &pe) && pe.HTTPStatus != 0:
		reason := fmt.Sprintf("the provider answered %d for the %s", pe.HTTPStatus, what)
		if pe.Text != "" && pe.Text != http.StatusText(pe.HTTPStatus) {
			reason += ": " + pe.Text
		}
		return reason, pe.Permanent
	case errors.As(err, &pe):
		return pe.Text, pe.Permanent
	case errors.As(err, &p):
		return p.Error(), true
	}
	if e, ok := errkind.As(err); ok && e.Kind == errkind.KindInvalid {
		return "the provider sent an empty file", true // Put's only invalid input
	}
	// The stream broke mid-way, or the media store failed: worth another try.
	return "the download was interrupted", false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
