package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/template"
)

// ScheduledStatus is where a scheduled message is in its life: it leaves "scheduled" once,
// for one of the others.
type ScheduledStatus string

// Scheduled message statuses.
const (
	ScheduledWaiting   ScheduledStatus = "scheduled"
	ScheduledSent      ScheduledStatus = "sent"
	ScheduledBlocked   ScheduledStatus = "blocked"
	ScheduledCancelled ScheduledStatus = "cancelled"
	ScheduledFailed    ScheduledStatus = "failed"
)

// Reasons a scheduled message records when it was not sent (beside a refusal's code).
const (
	ReasonCustomerReplied = "customer_replied"
	ReasonCancelled       = "cancelled"
)

// MaxScheduleAhead is how far ahead a send may be scheduled.
const MaxScheduleAhead = 30 * 24 * time.Hour

// Scheduled is a message to send at SendAt, decided again by the rules at that moment.
type Scheduled struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	ContactID   uuid.UUID
	// ChannelID is the channel chosen at scheduling (the draft's, else the contact's default
	// channel then): the fire sends on it even if the contact writes on another meanwhile.
	ChannelID uuid.UUID
	Status    ScheduledStatus
	SendAt    time.Time
	// Draft is the message as given (its ChannelID is nil: ChannelID holds it).
	Draft                   Draft
	Fallback                *TemplateRef
	CancelIfCustomerReplied bool
	CreatedBy               Actor
	// UserID is the person who scheduled (a user, or the user a key acted for): the fire sends
	// as them, so it may assign the conversation to them. Nil for a key on its own.
	UserID *uuid.UUID
	// PreviewDecision is the rules' answer for the draft at SendAt, as the state was at
	// scheduling; Decision the answer when it fired (nil before).
	PreviewDecision rules.Result
	Decision        *rules.Result
	MessageID       *uuid.UUID
	Reason          *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ScheduleOptions are what a scheduled send adds to a draft.
type ScheduleOptions struct {
	SendAt                  time.Time
	Fallback                *TemplateRef
	CancelIfCustomerReplied bool
}

// Schedule is one scheduling prepared by the service for the store: Send's fields name the
// contact, channel, template and media to lock and read as for an immediate send (Decide is
// unused), Fallback the template to read too, and Prepare checks the state and builds the row.
type Schedule struct {
	Send     Send
	Fallback *TemplateRef
	// Prepare gets the locked state and the fallback template (nil when the channel has none
	// so named) and returns the row to store, or the 422 that refuses the scheduling.
	Prepare func(st *SendState, fallback *template.Template) (Scheduled, error)
}

// Firing is one fire of a scheduled message prepared by the service for the store.
type Firing struct {
	WorkspaceID, ID uuid.UUID
	// Plan returns the sends to try, in order, for the locked row (the draft, then the
	// fallback): the first the rules allow is sent.
	Plan func(sc Scheduled) []Send
	Now  time.Time
}

// ScheduledFilter narrows the list of scheduled messages.
type ScheduledFilter struct {
	ContactID *uuid.UUID
	Status    *ScheduledStatus
}

// ScheduledStore is what scheduled sends need from persistence.
type ScheduledStore interface {
	// Schedule stores a scheduled message and its job in one transaction, with the
	// idempotent answer when there is a key (or answers the stored replay).
	Schedule(ctx context.Context, in Schedule) (Scheduled, []byte, *Replay, error)
	// FireScheduled locks the row and, while it is still scheduled, tries plan's sends in
	// order through the ordinary send path and marks it sent, blocked or failed in the same
	// transaction. A row no longer scheduled is left alone.
	FireScheduled(ctx context.Context, in Firing) (Scheduled, error)
	ScheduledMessage(ctx context.Context, ws, id uuid.UUID) (Scheduled, error)
	ScheduledMessages(ctx context.Context, ws uuid.UUID, f ScheduledFilter, p page.Request) ([]Scheduled, string, error)
	// CancelScheduled marks a scheduled message cancelled; one no longer scheduled is
	// ErrScheduledNotCancellable.
	CancelScheduled(ctx context.Context, ws, id uuid.UUID, now time.Time) (Scheduled, error)
}

// Errors of scheduled sends.
var (
	ErrScheduledNotFound = errkind.New(errkind.KindNotFound, "scheduled_message_not_found",
		"No such scheduled message in this workspace.")
	ErrScheduledNotCancellable = errkind.New(errkind.KindConflict, "scheduled_message_not_cancellable",
		"Only a scheduled message still waiting (status scheduled) can be cancelled.")
)

// ScheduledService schedules sends, fires them and lists them.
type ScheduledService struct {
	store ScheduledStore
	sends *SendService
}

// NewScheduledService builds a ScheduledService on the send service whose rules it applies.
func NewScheduledService(st ScheduledStore, sends *SendService) *ScheduledService {
	return &ScheduledService{store: st, sends: sends}
}

func (o *ScheduleOptions) validate(now time.Time) error {
	var errs errkind.Fields
	switch {
	case !o.SendAt.After(now):
		errs.Add("send_at", "must be in the future")
	case o.SendAt.Sub(now) > MaxScheduleAhead:
		errs.Add("send_at", "must be at most 30 days ahead")
	}
	if f := o.Fallback; f != nil {
		f.Name, f.Language = strings.TrimSpace(f.Name), strings.TrimSpace(f.Language)
		if f.Name == "" {
			errs.Add("fallback_template.name", "is required")
		}
		if f.Language == "" {
			errs.Add("fallback_template.language", "is required")
		}
		if f.Variables == nil {
			f.Variables = []string{}
		}
	}
	return errs.Err()
}

// Schedule checks a draft as an immediate send would be checked and stores it to be sent at
// opts.SendAt, with the rules' answer for that instant as things stand (PreviewDecision).
// The fallback template must be an approved template of the send's channel. It returns the
// idempotent answer's body when idem is given, or the replay of an earlier one.
func (s *ScheduledService) Schedule(ctx context.Context, ws, contactID uuid.UUID, by Caller, out Draft, opts ScheduleOptions,
	idem *Idempotency) (Scheduled, []byte, *Replay, error) {
	now := channel.Now(s.sends.now)
	if err := out.validate(); err != nil {
		return Scheduled{}, nil, nil, err
	}
	if err := opts.validate(now); err != nil {
		return Scheduled{}, nil, nil, err
	}
	by, err := s.sends.convs.resolve(ctx, ws, by)
	if err != nil {
		return Scheduled{}, nil, nil, err
	}
	in := Schedule{Send: Send{WorkspaceID: ws, ContactID: contactID, ChannelID: out.ChannelID, Idempotency: idem, Now: now,
		UserID: by.User, MediaIDs: mediaIDs(out.Attachments)}, Fallback: opts.Fallback}
	if out.Type == TypeTemplate {
		in.Send.TemplateName, in.Send.TemplateLanguage = out.Template.Name, out.Template.Language
	}
	cfg := s.sends.cfg
	in.Prepare = func(st *SendState, fallback *template.Template) (Scheduled, error) {
		return prepareSchedule(st, fallback, by, out, opts, now, cfg)
	}
	return s.store.Schedule(ctx, in)
}

// prepareSchedule checks the draft against the locked state as decideSend would (attachments
// resolved and within the provider's limits, the template known) and the fallback template,
// and builds the row with the rules' answer at SendAt.
func prepareSchedule(st *SendState, fallback *template.Template, by Caller, out Draft, opts ScheduleOptions, now time.Time,
	cfg SendConfig) (Scheduled, error) {
	if len(out.Attachments) > 0 {
		atts, err := resolveAttachments(out.Attachments, st.Media)
		if err != nil {
			return Scheduled{}, err
		}
		if err := checkMediaLimits(st.Channel, atts, out.Text, cfg.PublicURL); err != nil {
			return Scheduled{}, err
		}
		out.Attachments = atts
	}
	msg := &rules.Message{Type: rules.MessageType(out.Type), Tag: out.Tag}
	if out.Type == TypeTemplate {
		if st.Template == nil {
			return Scheduled{}, errkind.Invalid(errkind.Field{Field: "template.name",
				Message: fmt.Sprintf("the channel has no template %q in language %q", out.Template.Name, out.Template.Language)})
		}
		msg.TemplateStatus = st.Template.Status
		if _, err := st.Template.Render(out.Template.Variables); err != nil {
			return Scheduled{}, variablesInvalid("template.variables", err)
		}
	}
	if f := opts.Fallback; f != nil {
		switch {
		case fallback == nil:
			return Scheduled{}, errkind.Invalid(errkind.Field{Field: "fallback_template.name",
				Message: fmt.Sprintf("the send's channel has no template %q in language %q", f.Name, f.Language)})
		case fallback.Status != template.StatusApproved:
			return Scheduled{}, errkind.Invalid(errkind.Field{Field: "fallback_template.name",
				Message: fmt.Sprintf("must be an approved template (it is %s)", fallback.Status)})
		}
		if _, err := fallback.Render(f.Variables); err != nil {
			return Scheduled{}, variablesInvalid("fallback_template.variables", err)
		}
	}
	id := rules.Identity{LastInboundAt: st.Identity.LastInboundAt, SentSinceInbound: st.Identity.OutboundSinceInbound,
		MonthInitiated: st.MonthInitiated}
	preview := rules.Decide(rules.Lookup(st.Channel.Type), st.Channel.RuleOptions, id, by.sender(), msg, opts.SendAt)
	out.ChannelID = nil
	return Scheduled{WorkspaceID: st.Conversation.WorkspaceID, ID: uuid.Must(uuid.NewV7()), ContactID: st.Identity.ContactID,
		ChannelID: st.Channel.ID, Status: ScheduledWaiting, SendAt: opts.SendAt, Draft: out, Fallback: opts.Fallback,
		CancelIfCustomerReplied: opts.CancelIfCustomerReplied, CreatedBy: by.Actor, UserID: by.User, PreviewDecision: preview,
		CreatedAt: now, UpdatedAt: now}, nil
}

// variablesInvalid is a template's variables that do not fit it, refused at scheduling with
// the code an immediate send of that template is refused with (template_variables_invalid),
// naming the field.
func variablesInvalid(field string, err error) error {
	return &errkind.Error{Kind: errkind.KindRefused, Code: "template_variables_invalid", Detail: field + ": " + err.Error(),
		Fields: []errkind.Field{{Field: field, Message: err.Error()}}}
}

// Fire sends a due scheduled message through the ordinary send path, deciding on the state of
// this moment: the draft, else the fallback template, else it is blocked. A message no longer
// scheduled (cancelled, or fired by another process) is left alone. The decision is taken at
// send_at or later, never before, whatever the clock says.
func (s *ScheduledService) Fire(ctx context.Context, ws, id uuid.UUID) (Scheduled, error) {
	cfg := s.sends.cfg
	in := Firing{WorkspaceID: ws, ID: id, Now: channel.Now(s.sends.now)}
	in.Plan = func(sc Scheduled) []Send {
		now := in.Now
		if now.Before(sc.SendAt) {
			now = sc.SendAt
		}
		by := Caller{Actor: sc.CreatedBy, User: sc.UserID}
		drafts := []Draft{sc.Draft}
		if f := sc.Fallback; f != nil {
			ref := *f
			drafts = append(drafts, Draft{Type: TypeTemplate, Template: &ref})
		}
		sends := make([]Send, len(drafts))
		for i, d := range drafts {
			ch := sc.ChannelID
			d.ChannelID = &ch
			in := Send{WorkspaceID: ws, ContactID: sc.ContactID, ChannelID: &ch, Now: now, UserID: by.User,
				MediaIDs: mediaIDs(d.Attachments)}
			if d.Type == TypeTemplate {
				in.TemplateName, in.TemplateLanguage = d.Template.Name, d.Template.Language
			}
			in.Decide = func(st *SendState) (Message, rules.Result, []Event, error) {
				return decideSend(st, by, d, now, cfg)
			}
			sends[i] = in
		}
		return sends
	}
	return s.store.FireScheduled(ctx, in)
}

// Get returns one scheduled message.
func (s *ScheduledService) Get(ctx context.Context, ws, id uuid.UUID) (Scheduled, error) {
	return s.store.ScheduledMessage(ctx, ws, id)
}

// List returns a page of the workspace's scheduled messages, oldest scheduled first.
func (s *ScheduledService) List(ctx context.Context, ws uuid.UUID, f ScheduledFilter, p page.Request) ([]Scheduled, string, error) {
	return s.store.ScheduledMessages(ctx, ws, f, p)
}

// Cancel cancels a scheduled message that has not fired.
func (s *ScheduledService) Cancel(ctx context.Context, ws, id uuid.UUID) (Scheduled, error) {
	return s.store.CancelScheduled(ctx, ws, id, channel.Now(s.sends.now))
}

// IsRefusal reports whether err is a rule refusal, with its decision.
func IsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// FireDue fires a due scheduled message (the job's entry point). One that no longer exists
// (its contact was deleted, and the row with it) is done, not retried.
func (s *ScheduledService) FireDue(ctx context.Context, ws, id uuid.UUID) error {
	_, err := s.Fire(ctx, ws, id)
	if errors.Is(err, ErrScheduledNotFound) {
		return nil
	}
	return err
}
