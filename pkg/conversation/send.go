package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/template"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Draft is a message an agent or an integration asks to send to a contact.
type Draft struct {
	// ChannelID picks the channel; nil sends on the contact's default channel.
	ChannelID *uuid.UUID
	Type      MessageType
	Text      string
	Template  *TemplateRef
	// Attachments are stored media (MediaID) or links (URL), 1 to MaxAttachments.
	Attachments []Attachment
	Tag         string
}

// Idempotency carries a request's Idempotency-Key into the send's transaction, which stores
// the answer (pkg/resource renders it) that a replay sends again.
type Idempotency struct {
	Key  string
	Hash []byte
}

// Replay is a stored answer to an earlier request with the same Idempotency-Key.
type Replay struct {
	Status int
	Body   []byte
}

// Sent is what a send produced.
type Sent struct {
	Message      Message
	Conversation Conversation
	Decision     rules.Result
	// Body is the rendered answer when the send had an Idempotency-Key.
	Body []byte
}

// SendState is what the rules look at, read inside the send's transaction with the
// conversation and the identity locked.
type SendState struct {
	Conversation Conversation
	Identity     channel.Identity
	Channel      channel.Channel
	// Template is the named template of a template send; nil when the channel has none so named.
	Template *template.Template
	// MonthInitiated is the channel's chatbot-initiated count this UTC month (Viber).
	MonthInitiated int
	// Media are the workspace's media among those the send's attachments name (Send.MediaIDs).
	Media map[uuid.UUID]media.Media
}

// Send is one send prepared by the service for the store.
type Send struct {
	WorkspaceID uuid.UUID
	ContactID   uuid.UUID
	ChannelID   *uuid.UUID
	// TemplateName and TemplateLanguage name the template to load, when it is a template send.
	TemplateName, TemplateLanguage string
	// MediaIDs are the media the attachments name, read into SendState.Media.
	MediaIDs    []uuid.UUID
	Idempotency *Idempotency
	Now         time.Time
	// UserID is the person who sends (a user, or the user a key acts for), nil for a key on
	// its own: the store reads their name and email with the locks, for the answer when the
	// send assigns the conversation to them.
	UserID *uuid.UUID
	// Decide checks the state against the rules and returns the message to store, the
	// decision and the lifecycle events (reopen, assign); a refusal is an error.
	Decide func(st *SendState) (Message, rules.Result, []Event, error)
}

// Refusal is a send the rule table refuses: a 422 with the code and the decision.
type Refusal struct {
	Code     string
	Detail   string
	Decision rules.Result
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Detail }

// Unwrap makes a refusal an errkind refusal for the error handler's status table.
func (r *Refusal) Unwrap() error { return errkind.New(errkind.KindRefused, r.Code, r.Detail) }

// Errors of a send.
var (
	ErrNoChannelIdentity = errkind.New(errkind.KindRefused, "no_channel_identity",
		"The contact has no identity on that channel (or on any channel): there is no address to send to.")
	ErrQuotaRace = errors.New("the monthly quota ran out while sending")
	// ErrMessageNotFound: no such message in this workspace.
	ErrMessageNotFound = errkind.New(errkind.KindNotFound, "message_not_found", "No such message in this workspace.")
)

// Eligibility is the answer to "may I write to this contact now, on which channel, in what form?"
type Eligibility struct {
	ContactID        uuid.UUID
	DefaultChannelID *uuid.UUID
	Channels         []ChannelEligibility
	// At is the instant the answer is for: now, or the future instant asked about.
	At time.Time
}

// ChannelEligibility is the rule table's answer for one of the contact's identities.
type ChannelEligibility struct {
	Identity channel.Identity
	Decision rules.Result
}

// EligibilityRow is one identity with what the rules need, read in one query.
type EligibilityRow struct {
	Identity       channel.Identity
	Channel        channel.Channel
	MonthInitiated int
}

// SendStore is what sends need from persistence.
type SendStore interface {
	// Send runs one send in a transaction: it claims the Idempotency-Key (or answers the
	// stored replay), locks the conversation and the identity, reads the state, calls Decide,
	// stores the message, counts it, applies the events and enqueues the delivery.
	Send(ctx context.Context, in Send) (Sent, *Replay, error)
	// Eligibility reads the contact's identities with their channels and this month's usage.
	Eligibility(ctx context.Context, ws, contactID uuid.UUID, month time.Time) ([]EligibilityRow, error)
	User(ctx context.Context, ws, id uuid.UUID) (workspace.User, error)
}

// Sender turns the caller into the rule table's sender: a person (a user, or a key acting on
// behalf of one) or a key on its own.
func (c Caller) sender() rules.Sender {
	if c.Actor.Kind == ActorUser {
		return rules.Sender{Kind: rules.SenderUser}
	}
	return rules.Sender{Kind: rules.SenderKind(c.Actor.Kind)}
}

// SendConfig is what sends need to know of the server.
type SendConfig struct {
	// PublicURL says the server has a public URL (PUBLIC_BASE_URL) that providers which fetch
	// files by URL can fetch stored media from; without it such sends are refused up front.
	PublicURL bool
}

// SendService runs rule-checked sends and eligibility answers.
type SendService struct {
	store SendStore
	convs *Service
	now   func() time.Time
	cfg   SendConfig
}

// NewSendService builds a SendService.
func NewSendService(st SendStore, convs *Service, now func() time.Time, cfg SendConfig) *SendService {
	return &SendService{store: st, convs: convs, now: now, cfg: cfg}
}

func (o *Draft) validate() error {
	var errs errkind.Fields
	switch o.Type {
	case TypeText:
		o.Text = strings.TrimSpace(o.Text)
		if o.Text == "" {
			errs.Add("text", "is required for a text message")
		}
		if o.Template != nil || o.Attachments != nil {
			errs.Add("type", "a text message takes text only")
		}
	case TypeTemplate:
		if o.Template == nil {
			errs.Add("template", "is required for a template message")
		} else {
			o.Template.Name, o.Template.Language = strings.TrimSpace(o.Template.Name), strings.TrimSpace(o.Template.Language)
			if o.Template.Name == "" {
				errs.Add("template.name", "is required")
			}
			if o.Template.Language == "" {
				errs.Add("template.language", "is required")
			}
			if o.Template.Variables == nil {
				o.Template.Variables = []string{}
			}
		}
		if o.Text != "" || o.Attachments != nil {
			errs.Add("type", "a template message takes template only; its text is rendered from the template")
		}
	case TypeAttachment:
		if len(o.Attachments) == 0 {
			errs.Add("attachments", "are required for an attachment message")
		} else {
			var fe errkind.Fields
			o.Attachments, fe = checkAttachments(o.Attachments)
			errs = append(errs, fe...)
		}
		o.Text = strings.TrimSpace(o.Text) // an optional caption
		if o.Template != nil {
			errs.Add("type", "an attachment message takes no template")
		}
	default:
		errs.Add("type", "must be one of text, template, attachment")
	}
	if !utf8.ValidString(o.Text) || utf8.RuneCountInString(o.Text) > maxText {
		errs.Add("text", fmt.Sprintf("must be at most %d characters", maxText))
	}
	o.Tag = strings.TrimSpace(o.Tag)
	if utf8.RuneCountInString(o.Tag) > 64 {
		errs.Add("tag", "must be at most 64 characters")
	}
	return errs.Err()
}

// Send checks one outgoing message against the channel's rules and, when they allow it,
// stores it, counts it, reopens and assigns the conversation and queues the delivery, all in
// one transaction. A refusal is a *Refusal with the decision.
func (s *SendService) Send(ctx context.Context, ws, contactID uuid.UUID, by Caller, out Draft, idem *Idempotency) (Sent, *Replay, error) {
	if err := out.validate(); err != nil {
		return Sent{}, nil, err
	}
	by, err := s.convs.resolve(ctx, ws, by)
	if err != nil {
		return Sent{}, nil, err
	}
	now := channel.Now(s.now)
	in := Send{WorkspaceID: ws, ContactID: contactID, ChannelID: out.ChannelID, Idempotency: idem, Now: now, UserID: by.User,
		MediaIDs: mediaIDs(out.Attachments)}
	if out.Type == TypeTemplate {
		in.TemplateName, in.TemplateLanguage = out.Template.Name, out.Template.Language
	}
	in.Decide = func(st *SendState) (Message, rules.Result, []Event, error) {
		return decideSend(st, by, out, now, s.cfg)
	}
	sent, replay, err := s.store.Send(ctx, in)
	if errors.Is(err, ErrQuotaRace) {
		// Another send took the quota's last unit between our read and our count: answer as
		// the rules would have with the count that committed first.
		return Sent{}, nil, &Refusal{Code: rules.RefusalQuotaExceeded, Detail: "The channel's monthly quota of chatbot-initiated messages is spent."}
	}
	return sent, replay, err
}

// SendOrFallback is Send, and when the rules refuse the message and fallback names a template,
// the send of that template to the same channel instead, as a scheduled send falls back at
// send_at. The refused attempt wrote nothing (its transaction, Idempotency-Key claim
// included, rolled back), so the key answers whichever send committed.
func (s *SendService) SendOrFallback(ctx context.Context, ws, contactID uuid.UUID, by Caller, out Draft, fallback *TemplateRef,
	idem *Idempotency) (Sent, *Replay, error) {
	sent, replay, err := s.Send(ctx, ws, contactID, by, out, idem)
	if _, refused := IsRefusal(err); !refused || fallback == nil {
		return sent, replay, err
	}
	ref := *fallback
	sent, replay, err = s.Send(ctx, ws, contactID, by, Draft{ChannelID: out.ChannelID, Type: TypeTemplate, Template: &ref}, idem)
	return sent, replay, asFallback(err)
}

// asFallback names the fallback's fields in its validation error (fallback_template.name, not
// the template.name of the send it was tried as).
func asFallback(err error) error {
	e, ok := errkind.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	c := *e
	c.Fields = make([]errkind.Field, len(e.Fields))
	for i, f := range e.Fields {
		if strings.HasPrefix(f.Field, "template") {
			f.Field = "fallback_" + f.Field
		}
		c.Fields[i] = f
	}
	if len(c.Fields) == 1 {
		c.Detail = c.Fields[0].Field + ": " + c.Fields[0].Message
	}
	return &c
}

// decideSend applies the rule table to the locked state and builds the message and events.
// Attachments are resolved and checked against what the channel's provider carries first:
// before the rules decide, so nothing the provider cannot carry is counted or queued.
func decideSend(st *SendState, by Caller, out Draft, now time.Time, cfg SendConfig) (Message, rules.Result, []Event, error) {
	if len(out.Attachments) > 0 {
		atts, err := resolveAttachments(out.Attachments, st.Media)
		if err != nil {
			return Message{}, rules.Result{}, nil, err
		}
		if err := checkMediaLimits(st.Channel, atts, out.Text, cfg.PublicURL); err != nil {
			return Message{}, rules.Result{}, nil, err
		}
		out.Attachments = atts
	}
	msg := &rules.Message{Type: rules.MessageType(out.Type), Tag: out.Tag}
	if out.Type == TypeTemplate {
		if st.Template == nil {
			return Message{}, rules.Result{}, nil, errkind.Invalid(errkind.Field{Field: "template.name",
				Message: fmt.Sprintf("the channel has no template %q in language %q", out.Template.Name, out.Template.Language)})
		}
		msg.TemplateStatus = st.Template.Status
	}
	id := rules.Identity{LastInboundAt: st.Identity.LastInboundAt, SentSinceInbound: st.Identity.OutboundSinceInbound,
		MonthInitiated: st.MonthInitiated}
	d := rules.Decide(rules.Lookup(st.Channel.Type), st.Channel.RuleOptions, id, by.sender(), msg, now)
	if !d.Permitted {
		return Message{}, d, nil, &Refusal{Code: d.RefusalCode, Detail: d.Reason, Decision: d}
	}
	m := Message{WorkspaceID: st.Conversation.WorkspaceID, ID: uuid.Must(uuid.NewV7()), ConversationID: st.Conversation.ID,
		ContactID: st.Identity.ContactID, ChannelID: st.Channel.ID, IdentityID: &st.Identity.ID, Direction: Outgoing,
		Type: out.Type, Text: out.Text, Attachments: out.Attachments, Sender: by.Actor, Status: StatusQueued,
		Billable: d.Billable, CreatedAt: now, UpdatedAt: now}
	if out.Tag != "" {
		tag := out.Tag
		m.Tag = &tag
	}
	if out.Type == TypeTemplate {
		text, err := st.Template.Render(out.Template.Variables)
		if err != nil {
			return Message{}, d, nil, &Refusal{Code: "template_variables_invalid", Detail: err.Error(), Decision: d}
		}
		ref := *out.Template
		m.Text, m.Template = text, &ref
	}

	// The conversation: the message is its latest, a closed one reopens, and the person who
	// wrote takes it when it was closed or unassigned; an assigned open one keeps its assignee.
	c := &st.Conversation
	p := m.Preview()
	c.LastMessage, c.LastMessageAt, c.UpdatedAt = &p, now, now
	var events []Event
	switch {
	case c.Status == StatusClosed:
		ev, err := c.Reopen(by.User, by.Actor, now)
		if err != nil {
			return Message{}, d, nil, err
		}
		events = ev
	case c.AssigneeID == nil && by.User != nil:
		events = c.Assign(by.User, by.Actor, now)
	}
	c.sentOnWindow(m, d, now)
	return m, d, events, nil
}

// sentOnWindow counts a message just sent against the default channel when it went there (the
// WeChat cap per customer message, the Viber month), so the answer's reply window is the one
// after it.
func (c *Conversation) sentOnWindow(m Message, d rules.Result, now time.Time) {
	if w := c.Window; w != nil && m.IdentityID != nil && *m.IdentityID == w.IdentityID {
		w.SentSinceInbound++
		if d.Initiated {
			if w.UsageMonth == nil || !monthOf(*w.UsageMonth).Equal(monthOf(now)) {
				month := monthOf(now)
				w.UsageMonth, w.UsageInitiated = &month, 0
			}
			w.UsageInitiated++
		}
	}
	c.DecideReplyWindow(now)
}

// Eligibility answers, per identity of the contact, what may be sent now, or at a future
// instant (at) assuming nothing else happens until then: no message either way, so windows
// close and a new calendar month starts the Viber quota again. An instant that has passed is
// answered as of now (Eligibility.At says which instant the answer is for): what the rules
// said then depends on what has happened since, which the answer cannot know. asUser answers
// for another sender (owners, managers and keys only); nil answers for the caller.
func (s *SendService) Eligibility(ctx context.Context, ws, contactID uuid.UUID, by Caller, asUser *uuid.UUID, at *time.Time) (Eligibility, error) {
	now := channel.Now(s.now)
	when := now
	if at != nil && at.After(now) {
		when = at.UTC()
	}
	if asUser != nil {
		if by.Agent && (by.User == nil || *by.User != *asUser) {
			return Eligibility{}, errkind.ErrForbidden.Detailf("Only owners, managers and API keys may ask on behalf of another user.")
		}
		if _, err := s.store.User(ctx, ws, *asUser); err != nil {
			if errors.Is(err, workspace.ErrUserNotFound) {
				e := errkind.New(errkind.KindBadRequest, "invalid_parameter", "as_user: must be a user of this workspace")
				e.Fields = []errkind.Field{{Field: "as_user", Message: "must be a user of this workspace"}}
				return Eligibility{}, e
			}
			return Eligibility{}, fmt.Errorf("eligibility: %w", err)
		}
		id := *asUser
		by = Caller{Actor: Actor{Kind: ActorUser, ID: id}, User: &id}
	}
	rows, err := s.store.Eligibility(ctx, ws, contactID, now)
	if err != nil {
		return Eligibility{}, err
	}
	out := Eligibility{ContactID: contactID, Channels: make([]ChannelEligibility, 0, len(rows)), At: when}
	var best *channel.Identity
	for _, r := range rows {
		id := rules.Identity{LastInboundAt: r.Identity.LastInboundAt, SentSinceInbound: r.Identity.OutboundSinceInbound}
		if monthOf(when).Equal(monthOf(now)) {
			id.MonthInitiated = r.MonthInitiated // this month's count; a later month starts again
		}
		d := rules.Decide(rules.Lookup(r.Channel.Type), r.Channel.RuleOptions, id, by.sender(), nil, when)
		out.Channels = append(out.Channels, ChannelEligibility{Identity: r.Identity, Decision: d})
		if best == nil || newer(r.Identity, *best) {
			i := r.Identity
			best = &i
		}
	}
	if best != nil {
		ch := best.ChannelID
		out.DefaultChannelID = &ch
	}
	return out, nil
}

// newer reports whether a is a better default channel than b: the one the contact last wrote
// on, else the newest identity.
func newer(a, b channel.Identity) bool {
	switch {
	case a.LastInboundAt != nil && b.LastInboundAt == nil:
		return true
	case a.LastInboundAt == nil && b.LastInboundAt != nil:
		return false
	case a.LastInboundAt != nil && !a.LastInboundAt.Equal(*b.LastInboundAt):
		return a.LastInboundAt.After(*b.LastInboundAt)
	}
	return a.CreatedAt.After(b.CreatedAt)
}

// DefaultIdentity picks the default channel's identity among a contact's identities.
func DefaultIdentity(ids []channel.Identity) *channel.Identity {
	var best *channel.Identity
	for i := range ids {
		if best == nil || newer(ids[i], *best) {
			best = &ids[i]
		}
	}
	return best
}
