package conversation

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Inbox filter values.
const (
	FilterAll        = "all"
	InboxMine        = "mine"
	InboxUnassigned  = "unassigned"
	SortNewest       = "newest"
	SortOldest       = "oldest"
	maxQ             = 200
	maxText          = 20000
	maxSummary       = 2000
	maxCategory      = 100
	maxExternalID    = 256
	maxAttachmentURL = 2000
)

// Filter selects and orders the inbox.
type Filter struct {
	Status string // open, snoozed, closed or all
	Inbox  string // all, mine, unassigned or mentions (InboxMentions)
	// Me is the user "mine" means.
	Me         uuid.UUID
	AssigneeID *uuid.UUID
	// ChannelID keeps conversations whose contact has an identity on the channel.
	ChannelID *uuid.UUID
	Q         string
	// Sort is newest or oldest, by last message time, or SortWindowClosing.
	Sort string
	// Reader is the user whose read state the rows carry; nil for an API key.
	Reader *uuid.UUID
	// LabelID keeps conversations that carry the label.
	LabelID *uuid.UUID
	// TeamID keeps the team's conversations (with InboxUnassigned: the team's queue).
	TeamID *uuid.UUID
	// Window keeps conversations by their default channel's window: WindowOpen, WindowClosing
	// or WindowClosed; "" any.
	Window string
	// Now is the instant windows are open or closed at; the service sets it.
	Now time.Time
}

// Inbound is a customer's message ready to store: the store finds or creates the contact,
// identity and conversation around it in one transaction.
type Inbound struct {
	Channel    channel.Channel
	Identifier string // normalised for the channel's type
	// Message carries the content, time and external id; the store fills in whose it is.
	Message Message
	// NewContact is created when no contact matches the identity, the identifier (as phone or
	// email) or NewContact's own phone or email.
	NewContact contact.Contact
	Now        time.Time
	// MediaIDs are the media the message's attachments name; the store reads them (found: the
	// workspace's only) and Attach answers the attachments to store, or why not.
	MediaIDs []uuid.UUID
	Attach   func(found map[uuid.UUID]media.Media) ([]Attachment, error)
	// Apply is called with the contact's locked conversation after the message (as stored) is
	// recorded on it, and returns the lifecycle events to store (a reopen, a wake); it also
	// moves the reply window.
	Apply func(c *Conversation, m Message) ([]Event, error)
	// Route is called after Apply with the events it returned and a reader of the team to
	// route to, which locks the team (see Store.Ingest); it answers the assignment's events
	// and the routing to record, nil when nothing was routed.
	Route func(ctx context.Context, c *Conversation, events []Event, read TeamReader) ([]Event, *Routed, error)
}

// Ingested is what an inbound message produced, as the API answers it.
type Ingested struct {
	Message      Message
	Contact      contact.Contact
	Conversation Conversation
}

// Store is what the conversation service needs from persistence.
type Store interface {
	Workspace(ctx context.Context, id uuid.UUID) (workspace.Workspace, error)
	User(ctx context.Context, ws, id uuid.UUID) (workspace.User, error)
	Channel(ctx context.Context, ws, id uuid.UUID) (channel.Channel, error)
	Conversation(ctx context.Context, ws, id uuid.UUID) (Conversation, error)
	Conversations(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Conversation, string, error)
	Messages(ctx context.Context, ws, conversationID uuid.UUID, p page.Request) ([]Message, string, error)
	// Message returns one message, or ErrMessageNotFound.
	Message(ctx context.Context, ws, id uuid.UUID) (Message, error)
	Events(ctx context.Context, ws, conversationID uuid.UUID, p page.Request) ([]Event, string, error)
	// ChangeConversation locks the conversation row (SELECT ... FOR UPDATE), calls change, and
	// saves the changed conversation with the events change returns, in one transaction.
	ChangeConversation(ctx context.Context, ws, id uuid.UUID, change func(*Conversation) ([]Event, error)) (Conversation, error)
	// SetConversationTeam locks the conversation, lets change set its team (reporting
	// whether it changed) and, when it did, saves it and publishes
	// conversation.team_changed, in one transaction; a team that is no team of ws is
	// ErrUnknownTeam.
	SetConversationTeam(ctx context.Context, ws, id uuid.UUID, change func(*Conversation) bool) (Conversation, error)
	// WakeSnoozed locks at most limit snoozed conversations due at now (snoozed_until <= now),
	// skipping those another transaction holds, calls wake on each, and saves those it changed
	// with their events in one transaction. It answers how many changed.
	WakeSnoozed(ctx context.Context, now time.Time, limit int, wake func(*Conversation) []Event) (int, error)
	// WindowAlerts locks at most limit conversations whose next window alert is due at now
	// (skipping those another transaction holds), calls due on each with its workspace's
	// lead, and saves their next alerts with the returned alerts' events in one transaction.
	// It answers how many it locked.
	WindowAlerts(ctx context.Context, now time.Time, limit int, due func(c *Conversation, lead time.Duration) []WindowAlert) (int, error)
	// RefreshWindows locks the conversations of at most limit contacts with an identity on
	// the channel, after the identifier, calls refresh on each with the contact's identities
	// on live channels and saves those it changed. It answers the identifier to continue
	// after, "" at the end.
	RefreshWindows(ctx context.Context, ws, channelID uuid.UUID, after string, limit int,
		refresh func(c *Conversation, live []LiveIdentity, lead time.Duration) bool) (string, error)
	// Ingest stores an inbound message. With an external id already ingested on the channel
	// it writes nothing and answers the stored message with replayed set.
	Ingest(ctx context.Context, in Inbound) (out Ingested, replayed bool, err error)
	ReadStore
	NoteStore
}

// Service runs the conversation use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds a Service.
func NewService(st Store, now func() time.Time) *Service { return &Service{store: st, now: now} }

func (s *Service) clock() time.Time { return channel.Now(s.now) }

// Caller is who asks for a change.
type Caller struct {
	Actor Actor
	// User is the person acting: the user, or the user an API key acts for. Nil for a key
	// acting on its own.
	User *uuid.UUID
	// Agent restricts the caller to what agents may do.
	Agent bool
	// OnBehalfOf names the user an API key acts for; the service checks it and turns the
	// caller into that user.
	OnBehalfOf *uuid.UUID
}

// errActForOther refuses a user's on_behalf_of naming someone else.
var errActForOther = errkind.New(errkind.KindForbidden, "forbidden",
	"A user acts as themselves: only an API key may act on behalf of another user (on_behalf_of).")

// resolve turns an API key's on_behalf_of into the user it names.
func (s *Service) resolve(ctx context.Context, ws uuid.UUID, c Caller) (Caller, error) {
	if c.OnBehalfOf == nil {
		return c, nil
	}
	if c.Actor.Kind != ActorAPIKey {
		// A user naming themselves changes nothing (a client may send the same body for a
		// person and for a key); naming another is a power only keys have: a permission
		// refusal, not a malformed request.
		if c.User != nil && *c.User == *c.OnBehalfOf {
			c.OnBehalfOf = nil
			return c, nil
		}
		return Caller{}, errActForOther
	}
	u, err := s.store.User(ctx, ws, *c.OnBehalfOf)
	if errors.Is(err, workspace.ErrUserNotFound) {
		return Caller{}, errkind.Invalid(errkind.Field{Field: "on_behalf_of", Message: "must be a user of this workspace"})
	}
	if err != nil {
		return Caller{}, fmt.Errorf("resolve on_behalf_of: %w", err)
	}
	id := u.ID
	return Caller{Actor: Actor{Kind: ActorUser, ID: id}, User: &id, Agent: u.Role == workspace.RoleAgent}, nil
}

// Get returns one conversation.
func (s *Service) Get(ctx context.Context, ws, id uuid.UUID) (Conversation, error) {
	return s.decided(s.store.Conversation(ctx, ws, id))
}

// decided is a conversation read for an answer, with its reply window decided now.
func (s *Service) decided(c Conversation, err error) (Conversation, error) {
	if err != nil {
		return c, err
	}
	c.DecideReplyWindow(s.clock())
	return c, nil
}

// List returns a page of the inbox, each row with its reply window as of now. The window sort
// does not combine with inbox=mentions, which lists by latest mention.
func (s *Service) List(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Conversation, string, error) {
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > maxQ {
		return nil, "", errkind.Invalid(errkind.Field{Field: "q", Message: fmt.Sprintf("must be at most %d characters", maxQ)})
	}
	if err := contact.CheckQuery(f.Q); err != nil {
		return nil, "", err
	}
	if f.Status == "" {
		f.Status = string(StatusOpen)
	}
	if f.Inbox == "" {
		f.Inbox = FilterAll
	}
	if f.Sort == "" {
		f.Sort = SortNewest
	}
	if f.Inbox == InboxMentions && f.Sort == SortWindowClosing {
		return nil, "", badParameter("sort", "sort=window_closing does not combine with inbox=mentions, which lists by latest mention")
	}
	f.Now = s.clock()
	vs, next, err := s.store.Conversations(ctx, ws, f, p)
	for i := range vs {
		vs[i].DecideReplyWindow(f.Now)
	}
	return vs, next, err
}

// badParameter is a 400 invalid_parameter naming a query parameter.
func badParameter(field, msg string) error {
	e := errkind.New(errkind.KindBadRequest, "invalid_parameter", field+": "+msg)
	e.Fields = []errkind.Field{{Field: field, Message: msg}}
	return e
}

// Messages returns a page of a conversation's messages, newest first.
func (s *Service) Messages(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]Message, string, error) {
	return s.store.Messages(ctx, ws, id, p)
}

// Message returns one message with its delivery status.
func (s *Service) Message(ctx context.Context, ws, id uuid.UUID) (Message, error) {
	return s.store.Message(ctx, ws, id)
}

// Events returns a page of a conversation's lifecycle, oldest first.
func (s *Service) Events(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]Event, string, error) {
	return s.store.Events(ctx, ws, id, p)
}

// optional trims s; empty means absent.
func optional(s *string) *string {
	if s == nil {
		return nil
	}
	v := strings.TrimSpace(*s)
	if v == "" {
		return nil
	}
	return &v
}

// Close closes an open conversation with an optional closing note. The category must be one
// of the workspace's closing_note_categories when any are set, and is required when
// closing_note_required; unassign_on_close unassigns it.
func (s *Service) Close(ctx context.Context, ws, id uuid.UUID, by Caller, category, summary *string) (Conversation, error) {
	w, err := s.store.Workspace(ctx, ws)
	if err != nil {
		return Conversation{}, fmt.Errorf("close conversation: %w", err)
	}
	set := w.Settings
	category, summary = optional(category), optional(summary)
	var errs errkind.Fields
	switch {
	case category == nil && set.ClosingNoteRequired:
		errs.Add("category", "is required: this workspace needs a closing note category")
	case category != nil && len(set.ClosingNoteCategories) > 0 && !slices.Contains(set.ClosingNoteCategories, *category):
		errs.Add("category", "must be one of "+strings.Join(set.ClosingNoteCategories, ", "))
	case category != nil && utf8.RuneCountInString(*category) > maxCategory:
		errs.Add("category", fmt.Sprintf("must be at most %d characters", maxCategory))
	}
	if summary != nil && utf8.RuneCountInString(*summary) > maxSummary {
		errs.Add("summary", fmt.Sprintf("must be at most %d characters", maxSummary))
	}
	if err := errs.Err(); err != nil {
		return Conversation{}, err
	}
	return s.decided(s.store.ChangeConversation(ctx, ws, id, func(c *Conversation) ([]Event, error) {
		return c.Close(category, summary, set.UnassignOnClose, by.Actor, s.clock())
	}))
}

// Reopen opens a closed conversation, or wakes a snoozed one, and assigns it to the person
// reopening it: the user, or the user an API key names in on_behalf_of. A key acting on its
// own leaves the assignee.
func (s *Service) Reopen(ctx context.Context, ws, id uuid.UUID, by Caller) (Conversation, error) {
	by, err := s.resolve(ctx, ws, by)
	if err != nil {
		return Conversation{}, err
	}
	return s.decided(s.store.ChangeConversation(ctx, ws, id, func(c *Conversation) ([]Event, error) {
		return c.Reopen(by.User, by.Actor, s.clock())
	}))
}

// Assign sets (to a user of the workspace) or clears the assignee. Agents may assign only to
// themselves and unassign only themselves; managers, owners and API keys assign anyone.
func (s *Service) Assign(ctx context.Context, ws, id uuid.UUID, by Caller, to *uuid.UUID) (Conversation, error) {
	if to != nil {
		_, err := s.store.User(ctx, ws, *to)
		if errors.Is(err, workspace.ErrUserNotFound) {
			return Conversation{}, ErrUnknownAssignee
		}
		if err != nil {
			return Conversation{}, fmt.Errorf("assign conversation: %w", err)
		}
	}
	if by.Agent && to != nil && (by.User == nil || *to != *by.User) {
		return Conversation{}, ErrAssignForbidden
	}
	return s.decided(s.store.ChangeConversation(ctx, ws, id, func(c *Conversation) ([]Event, error) {
		if by.Agent && to == nil && c.AssigneeID != nil && (by.User == nil || *c.AssigneeID != *by.User) {
			return nil, ErrAssignForbidden
		}
		return c.Assign(to, by.Actor, s.clock()), nil
	}))
}

// ErrUnknownAssignee: the user to assign is not a member of this workspace.
var ErrUnknownAssignee = errkind.Invalid(errkind.Field{Field: "user_id", Message: "must be a user of this workspace"})

// InboundMessage is a customer's message as an integration hands it in.
type InboundMessage struct {
	Identifier string
	Text       string
	// Attachments are links or stored media (at most MaxAttachments), or, from a provider
	// webhook, media the provider keeps (pending: a fetch job brings them in).
	Attachments []Attachment
	// ReceivedAt defaults to now and must not be in the future.
	ReceivedAt *time.Time
	// Contact fills a new contact; it is ignored when the contact already exists.
	Contact    contact.Fields
	ExternalID *string
}

// Ingest stores a customer's inbound message on a channel: it finds the contact by identity
// (or by the phone or email of a new identity, or of the given contact fields), creates
// contact and identity when new, moves the identity's last_inbound_at forward (never
// backward), and reopens a closed conversation or wakes a snoozed one (reason customer_replied)
// with the contact as actor. Waking goes by ingestion: a message delivered late, received
// before the snooze, wakes it too, as the customer's reply reaches the agents only now. An
// external id already ingested on the channel writes nothing and answers replayed with the
// first message.
func (s *Service) Ingest(ctx context.Context, ws, channelID uuid.UUID, in InboundMessage) (Ingested, bool, error) {
	ch, err := s.store.Channel(ctx, ws, channelID)
	if err != nil {
		return Ingested{}, false, err
	}
	if ch.Archived() {
		return Ingested{}, false, channel.ErrArchived
	}
	w, err := s.store.Workspace(ctx, ws)
	if err != nil {
		return Ingested{}, false, fmt.Errorf("ingest: %w", err)
	}
	region, lead := w.Settings.DefaultPhoneRegion, w.Settings.WindowLead()
	now := s.clock()
	var errs errkind.Fields
	identifier, err := channel.NormalizeIdentifier(ch.Type, in.Identifier, region)
	if e, ok := errkind.As(err); ok {
		errs = append(errs, e.Fields...)
	}
	msg := Message{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), ChannelID: ch.ID, Direction: Incoming,
		Type: TypeText, Text: strings.TrimSpace(in.Text), Status: StatusReceived, CreatedAt: now, UpdatedAt: now}
	if !utf8.ValidString(msg.Text) || utf8.RuneCountInString(msg.Text) > maxText {
		errs.Add("text", fmt.Sprintf("must be at most %d characters", maxText))
	}
	if in.Attachments != nil { // given, if empty: an empty list is refused, not taken for none
		var fe errkind.Fields
		msg.Attachments, fe = checkAttachments(in.Attachments)
		errs = append(errs, fe...)
		msg.Type = TypeAttachment
	} else if msg.Text == "" {
		errs.Add("text", "is required unless an attachment is given")
	}
	if in.ReceivedAt != nil {
		at := in.ReceivedAt.UTC().Truncate(time.Microsecond)
		if at.After(now) {
			errs.Add("received_at", "must not be in the future")
		}
		msg.CreatedAt = at
	}
	if x := optional(in.ExternalID); x != nil {
		if utf8.RuneCountInString(*x) > maxExternalID {
			errs.Add("external_id", fmt.Sprintf("must be at most %d characters", maxExternalID))
		}
		msg.ExternalID = x
	}
	nc, err := contact.New(ws, in.Contact, region, now)
	if e, ok := errkind.As(err); ok {
		for _, f := range e.Fields {
			errs.Add("contact."+f.Field, f.Message)
		}
	}
	if err := errs.Err(); err != nil {
		return Ingested{}, false, err
	}
	// A new contact reached on a phone or email channel is reachable there: keep the address.
	switch ch.Type {
	case rules.WhatsApp, rules.SMS:
		if nc.Phone == nil {
			nc.Phone = &identifier
		}
	case rules.Email:
		if nc.Email == nil {
			nc.Email = &identifier
		}
	}
	out, replayed, err := s.store.Ingest(ctx, Inbound{Channel: ch, Identifier: identifier, Message: msg, NewContact: nc, Now: now,
		MediaIDs: mediaIDs(msg.Attachments),
		Attach: func(found map[uuid.UUID]media.Media) ([]Attachment, error) {
			return resolveAttachments(msg.Attachments, found)
		},
		Apply: func(c *Conversation, m Message) ([]Event, error) {
			if m.IdentityID != nil {
				c.moveWindow(*m.IdentityID, WindowChannel{ID: ch.ID, Type: ch.Type, Options: ch.RuleOptions}, m.CreatedAt, lead, now)
			}
			customer := Actor{Kind: ActorContact, ID: c.Contact.ID}
			switch c.Status {
			case StatusClosed:
				return c.Reopen(nil, customer, now)
			case StatusSnoozed:
				return c.Wake(WokeCustomerReplied, customer, now), nil
			}
			return nil, nil
		},
		Route: func(ctx context.Context, c *Conversation, events []Event, read TeamReader) ([]Event, *Routed, error) {
			return c.route(ctx, ch.Routing, events, read, now)
		}})
	if err != nil {
		return Ingested{}, false, fmt.Errorf("ingest: %w", err)
	}
	out.Conversation.DecideReplyWindow(now)
	return out, replayed, nil
}

// checkAttachments checks a message's attachments and answers them trimmed: each is stored
// media (a media id, resolved where the message is stored: resolveAttachments) or a link (an
// absolute http(s) URL with its media type); a link is ready as it is, since the server does
// not fetch it.
func checkAttachments(in []Attachment) ([]Attachment, errkind.Fields) {
	var errs errkind.Fields
	if len(in) == 0 || len(in) > MaxAttachments {
		errs.Add("attachments", fmt.Sprintf("must hold 1 to %d files", MaxAttachments))
		return in, errs
	}
	out := make([]Attachment, len(in))
	for i, a := range in {
		at := fmt.Sprintf("attachments[%d].", i)
		a.URL, a.MimeType, a.Filename = strings.TrimSpace(a.URL), strings.ToLower(strings.TrimSpace(a.MimeType)), strings.TrimSpace(a.Filename)
		if utf8.RuneCountInString(a.Filename) > 255 {
			errs.Add(at+"filename", "must be at most 255 characters")
		}
		switch {
		case a.MediaID != nil && a.URL != "":
			errs.Add(at+"url", "is not taken with media_id: an attachment is stored media or a link")
		case a.MediaID != nil && a.Status == AttachmentReady:
			// Media the provider webhook path stored itself (an email's parts), before the
			// contact was known: ingestion gives it to the message's contact. The API never
			// sets a status.
		case a.MediaID != nil:
			// Stored media: the store reads it where the message is stored, and
			// resolveAttachments fills in its type, size and name from what it found.
			a.MimeType, a.Size = "", 0
		case a.Status == AttachmentPending:
			// A provider's media, set by the provider webhook path (never by the API): a fetch
			// job brings it into the media store, by Ref or by its URL (the provider's, which
			// may expire).
		case a.Status == AttachmentFailed:
			// A file the provider webhook path could not store (over the size cap, a refused
			// type): the message keeps it, with Reason.
		default:
			u, err := url.Parse(a.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || utf8.RuneCountInString(a.URL) > maxAttachmentURL {
				errs.Add(at+"url", "must be an absolute http or https URL")
			}
			if mt, _, err := mime.ParseMediaType(a.MimeType); err != nil || !strings.Contains(mt, "/") || utf8.RuneCountInString(a.MimeType) > 255 {
				errs.Add(at+"mime_type", "must be a media type such as image/jpeg")
			}
			a.Status = AttachmentReady
		}
		out[i] = a
	}
	return out, errs
}
