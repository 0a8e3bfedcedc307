// Package audit provides the audit log's entries: who (a user or an API key, from which client
// address and user agent) did what to which resource, with the changed fields' before and
// after. Services decide what a change records (a Record); the store writes it in the same
// transaction as the change, stamped with the Origin the request carries in its context.
package audit

import (
	"context"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/page"
)

// Actions the log records. Dotted: the resource, then what happened to it.
const (
	APIKeyCreated            = "api_key.created"
	APIKeyRevoked            = "api_key.revoked"
	UserCreated              = "user.created"
	UserUpdated              = "user.updated" // the name; role and password have their own
	UserRoleChanged          = "user.role_changed"
	UserPasswordChanged      = "user.password_changed"
	UserDeleted              = "user.deleted"
	WorkspaceSettingsChanged = "workspace.settings_changed"
	ChannelCreated           = "channel.created"
	ChannelUpdated           = "channel.updated"
	ChannelDeleted           = "channel.deleted"
	TemplateCreated          = "template.created"
	TemplateUpdated          = "template.updated"
	TemplateDeleted          = "template.deleted"
	WebhookCreated           = "webhook.created"
	WebhookUpdated           = "webhook.updated"
	WebhookDeleted           = "webhook.deleted"
	LoginSucceeded           = "login.succeeded"
	LoginFailed              = "login.failed"
	// ContactMerged is written by the contact merge, ConversationBulk for each conversation a
	// bulk action changed (see WithBulk).
	ContactMerged    = "contact.merged"
	ConversationBulk = "conversation.bulk"
)

// Actor kinds. A change no request made (a job, the bootstrap command) is the system's; a
// failed login is anonymous: nobody proved who they are.
const (
	ActorUser      = "user"
	ActorAPIKey    = "api_key"
	ActorSystem    = "system"
	ActorAnonymous = "anonymous"
)

// Retention limits of the workspace setting audit_retention_days.
const (
	DefaultRetentionDays = 365
	MinRetentionDays     = 1
	MaxRetentionDays     = 3650
)

// Redacted stands for a secret's value in Changes: the log says that a secret was set or
// changed, never what it is.
const Redacted = "changed"

// Actor is who made a change.
type Actor struct {
	Kind string
	ID   *uuid.UUID // the user or the key; nil for system and anonymous
}

// Resource is what a change was made to.
type Resource struct {
	Type string
	ID   *uuid.UUID
}

// Change is one field's value before and after; nil is "none".
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// Changes are a change's fields by name.
type Changes map[string]Change

// Set records field when before and after differ (as JSON would show them).
func (c Changes) Set(field string, before, after any) {
	if reflect.DeepEqual(before, after) {
		return
	}
	c[field] = Change{Before: before, After: after}
}

// Secret records a secret field that was set, changed or removed, as Redacted (had a value)
// or nil (had none) on each side, so neither value reaches the log.
func (c Changes) Secret(field string, hadBefore, hasAfter, changed bool) {
	if !changed && hadBefore == hasAfter {
		return
	}
	c[field] = Change{Before: redacted(hadBefore), After: redacted(hasAfter)}
}

func redacted(set bool) any {
	if set {
		return Redacted
	}
	return nil
}

// Record is what a service decides a change writes to the log; the store adds who, from where
// and when (Stamp).
type Record struct {
	Action   string
	Resource Resource
	Changes  Changes
}

// On is a record of action on the resource of type typ with the id.
func On(action, typ string, id uuid.UUID, changes Changes) Record {
	if changes == nil {
		changes = Changes{}
	}
	return Record{Action: action, Resource: Resource{Type: typ, ID: &id}, Changes: changes}
}

// Entry is one line of the audit log.
type Entry struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Action      string
	Actor       Actor
	ClientIP    string
	UserAgent   string
	Resource    Resource
	Changes     Changes
	CreatedAt   time.Time
}

// Origin is who makes the changes of a request, and from where.
type Origin struct {
	Actor     Actor
	ClientIP  string
	UserAgent string
}

type ctxOrigin struct{}

// WithOrigin returns ctx carrying o: the HTTP layer sets the client's address and user agent
// for every request, and the actor once it has authenticated it.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, ctxOrigin{}, o)
}

// WithActor returns ctx with its origin's actor replaced (a login acts as the user it logs in).
func WithActor(ctx context.Context, a Actor) context.Context {
	o := OriginFrom(ctx)
	o.Actor = a
	return WithOrigin(ctx, o)
}

// OriginFrom returns the origin ctx carries; without one, the system made the change.
func OriginFrom(ctx context.Context) Origin {
	if o, ok := ctx.Value(ctxOrigin{}).(Origin); ok {
		return o
	}
	return Origin{Actor: Actor{Kind: ActorSystem}}
}

type ctxBulk struct{}

// WithBulk returns ctx marking the conversation changes made under it as parts of the bulk
// action (close, assign...): the store's conversation transactions then record each
// conversation they change as a ConversationBulk entry, in that conversation's transaction.
//
// It travels in the context, as the Origin does, rather than as a parameter: a bulk action goes
// through the single-conversation use cases unchanged (their rules are the point), and those
// use cases, their store methods and every other caller (the single endpoints, routing, jobs,
// which record nothing) would otherwise all carry an argument that only the store reads. Like
// the Origin, it says who asks, not what to change.
func WithBulk(ctx context.Context, action string) context.Context {
	return context.WithValue(ctx, ctxBulk{}, action)
}

// BulkFrom returns the bulk action ctx carries, and whether it carries one.
func BulkFrom(ctx context.Context) (string, bool) {
	a, ok := ctx.Value(ctxBulk{}).(string)
	return a, ok && a != ""
}

// Stamp is the entry of r in workspace ws, made by ctx's origin at the instant.
func Stamp(ctx context.Context, ws uuid.UUID, r Record, at time.Time) Entry {
	o := OriginFrom(ctx)
	ch := r.Changes
	if ch == nil {
		ch = Changes{}
	}
	return Entry{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), Action: r.Action, Actor: o.Actor, ClientIP: o.ClientIP,
		UserAgent: o.UserAgent, Resource: r.Resource, Changes: ch, CreatedAt: at}
}

// Filter narrows the log's list.
type Filter struct {
	// Action is an exact action, or a prefix ending in ".*" ("channel.*").
	Action  string
	ActorID *uuid.UUID
	Since   *time.Time
}

// ActionPrefix reports whether the filter's action is a prefix ("channel.*"), and the prefix
// with its dot ("channel."). A "*" anywhere else is literal: such an action matches nothing.
func (f Filter) ActionPrefix() (string, bool) {
	if p, ok := strings.CutSuffix(f.Action, "*"); ok && strings.HasSuffix(p, ".") {
		return p, true
	}
	return "", false
}

// Store is what the audit service needs from persistence.
type Store interface {
	// AuditLog lists a workspace's entries newest first.
	AuditLog(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Entry, string, error)
	// PurgeAudit deletes up to limit entries older than their workspace's retention at now,
	// and says how many.
	PurgeAudit(ctx context.Context, now time.Time, limit int) (int, error)
}

// Service reads the log and purges what is past its retention.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds a Service.
func NewService(st Store, now func() time.Time) *Service { return &Service{store: st, now: now} }

// List returns a page of the workspace's log, newest first.
func (s *Service) List(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Entry, string, error) {
	return s.store.AuditLog(ctx, ws, f, p)
}

// PurgeBatch is how many entries one purge statement deletes: small enough that it holds its
// row locks briefly, and VACUUM keeps up.
const PurgeBatch = 1000

// Purge deletes every entry past its workspace's retention, a batch at a time, and says how
// many it deleted.
func (s *Service) Purge(ctx context.Context) (int, error) {
	total := 0
	now := s.now().UTC()
	for {
		n, err := s.store.PurgeAudit(ctx, now, PurgeBatch)
		total += n
		if err != nil || n < PurgeBatch {
			return total, err
		}
	}
}
