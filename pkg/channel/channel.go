// Package channel provides a workspace's connected channels (their type in the rule table,
// delivery provider, sealed provider secrets and rule options) and contacts' identities on
// them, with identifiers normalised per channel type.
package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/phone"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/secret"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Channel is a connected channel instance.
type Channel struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Type        rules.ChannelType
	Name        string
	Provider    string
	// Config holds the provider's non-secret settings.
	Config map[string]any
	// SecretNames are the provider secrets that are set; their values are only in Secrets.
	SecretNames []string
	// Secrets is the sealed JSON object of the provider's secrets (nil when there are none).
	Secrets     []byte
	RuleOptions rules.Options
	// Routing is where the channel's new and customer-reopened conversations go (routing.go).
	Routing    Routing
	ArchivedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Archived reports whether the channel is archived: kept for its history, closed to new traffic.
func (c Channel) Archived() bool { return c.ArchivedAt != nil }

// Identity is a contact's address on one channel.
type Identity struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	ContactID   uuid.UUID
	ChannelID   uuid.UUID
	ChannelType rules.ChannelType
	Identifier  string
	// LastInboundAt is the customer's latest message on this identity: the window's start.
	LastInboundAt *time.Time
	// OutboundSinceInbound counts messages sent to the identity since LastInboundAt.
	OutboundSinceInbound int
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Errors of this package.
var (
	ErrNotFound       = errkind.New(errkind.KindNotFound, "channel_not_found", "No such channel in this workspace.")
	ErrArchived       = errkind.New(errkind.KindConflict, "channel_archived", "The channel is archived: it keeps its history but takes no new messages or identities.")
	ErrIdentityExists = errkind.New(errkind.KindConflict, "identity_exists", "This identifier is already a contact's identity on this channel.")
	// ErrTypeMismatch and ErrProviderMismatch answer a change that names another type or
	// provider than the stored channel's. A change names them so that what it carries (rule
	// options, config) has one meaning; naming others is a conflict with the stored channel,
	// not malformed input, so it is a 409.
	ErrTypeMismatch     = errkind.New(errkind.KindConflict, "channel_type_mismatch", "A channel's type never changes; the request names another type than the channel's.")
	ErrProviderMismatch = errkind.New(errkind.KindConflict, "provider_mismatch", "The request names another provider than the channel's; change providers with PUT /v1/channels/{id}/provider.")
	// ErrSecretsUnavailable means the server has no SECRETS_KEY, so provider secrets can be
	// neither stored nor read. It is a 422 with its own code rather than a 503, so the client
	// gets the explanation (5xx details are hidden) and does not retry.
	ErrSecretsUnavailable = &errkind.Error{Kind: errkind.KindInvalid, Code: "secrets_unavailable",
		Detail: "This server has no SECRETS_KEY configured, so it cannot store or read provider secrets; use the sandbox provider or ask the operator to set SECRETS_KEY.",
		Fields: []errkind.Field{{Field: "config", Message: "provider secrets cannot be stored: the server has no SECRETS_KEY"}}}
)

// Filter selects channels in a list.
type Filter struct {
	IncludeArchived bool
}

// Store is what the channel service needs from persistence.
type Store interface {
	Workspace(ctx context.Context, id uuid.UUID) (workspace.Workspace, error)
	// CreateChannel stores a channel with its audit record.
	CreateChannel(ctx context.Context, ch Channel, rec audit.Record) error
	Channel(ctx context.Context, ws, id uuid.UUID) (Channel, error)
	Channels(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Channel, string, error)
	// UpdateChannel locks the channel, applies the change and saves it with the audit records
	// apply returns.
	UpdateChannel(ctx context.Context, ws, id uuid.UUID, apply func(*Channel) ([]audit.Record, error)) (Channel, error)
	// DeleteChannel deletes a channel without messages or archives one with messages, and
	// reports which; record makes the audit entry of either.
	DeleteChannel(ctx context.Context, ws, id uuid.UUID, now time.Time, record func(ch Channel, archived bool) audit.Record) (archived bool, err error)
	// Identities lists a contact's identities; an unknown contact is contact.ErrNotFound.
	Identities(ctx context.Context, ws, contactID uuid.UUID, p page.Request) ([]Identity, string, error)
	// CreateIdentity stores an identity; the identifier taken on the channel is
	// ErrIdentityExists with the holder's contact id, an unknown contact contact.ErrNotFound.
	CreateIdentity(ctx context.Context, id *Identity) error
}

// Service runs the channel use cases.
type Service struct {
	store Store
	box   *secret.Box
	dest  Destinations
	now   func() time.Time
}

// Destinations says where a channel's config may point. A save refuses what can never be
// reached (an IP literal in a private range, or on loopback without the switch); every
// delivery checks the address it actually dials again (pkg/egress), since names can change.
type Destinations struct {
	// ProviderOverride accepts a provider's api_base, and lets api_base and SMTP hosts be
	// loopback (PROVIDER_API_BASE_OVERRIDE: tests, staging).
	ProviderOverride bool
	// WebhookLoopback lets a custom channel's webhook url be loopback (WEBHOOK_ALLOW_LOOPBACK).
	WebhookLoopback bool
}

// NewService builds a Service. box seals provider secrets (nil: no key, so channels that need
// secrets cannot be created).
func NewService(st Store, box *secret.Box, dest Destinations, now func() time.Time) *Service {
	return &Service{store: st, box: box, dest: dest, now: now}
}

// Now returns the service's clock at the database's precision (microseconds), so a value
// returned before a write equals the one read back after it.
func Now(now func() time.Time) time.Time { return now().UTC().Truncate(time.Microsecond) }

// New is the input for creating a channel.
type New struct {
	Type        string
	Name        string
	Provider    *string
	Config      map[string]any
	RuleOptions map[string]any
}

// Patch changes a channel; nil fields stay as they are. It names the channel's type, and its
// provider when it carries Config, so that its options and config are read as the channel's
// own: the type never changes, and ProviderSwitch changes the provider. Config is merged over
// the current settings (null clears a setting; one left out, a secret too, is kept; see
// mergeConfig), RuleOptions over the current options (null restores an option's default).
type Patch struct {
	Type        string
	Name        *string
	Provider    *string
	Config      map[string]any
	RuleOptions map[string]any
	// Routing changes the channel's routing (nil: unchanged).
	Routing *RoutingPatch
}

// ProviderSwitch replaces a channel's provider and its whole config, as Create sets them.
type ProviderSwitch struct {
	Type     string // the channel's type, which never changes
	Provider string
	Config   map[string]any
}

const maxName = 100

func checkName(name string, errs *errkind.Fields) string {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxName || !utf8.ValidString(name) {
		errs.Add("name", fmt.Sprintf("must be 1 to %d characters", maxName))
	}
	return name
}

// knownProvider is the provider called name; when there is none, errs names the choices.
func knownProvider(name string, errs *errkind.Fields) (providerSpec, bool) {
	spec, ok := lookupProvider(name)
	if !ok {
		errs.Add("provider", "must be one of "+strings.Join(ProviderNames(), ", "))
	}
	return spec, ok
}

func typeNames() string {
	ts := rules.Types()
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func checkOptions(t rules.ChannelType, raw map[string]any, errs *errkind.Fields) rules.Options {
	opts, fe := rules.ParseOptions(t, raw)
	for _, f := range fe {
		errs.Add(f.Field, f.Message)
	}
	return opts
}

// secretsAD binds sealed secrets to their channel, so they cannot be replayed onto another.
func secretsAD(ws, id uuid.UUID) []byte { return append(ws[:len(ws):len(ws)], id[:]...) }

// applyProvider validates provider and config for the channel and stores them on it, sealing
// the secrets.
func (s *Service) applyProvider(ch *Channel, provider string, config map[string]any, errs *errkind.Fields) error {
	spec, ok := knownProvider(provider, errs)
	if !ok {
		return nil
	}
	if !spec.delivers(ch.Type) {
		errs.Add("provider", fmt.Sprintf("the %s provider delivers only %s channels, not %s", spec.name, spec.typeNames(), ch.Type))
		return nil
	}
	public, secrets, fe := parseConfig(spec, config, s.dest)
	*errs = append(*errs, fe...)
	if len(*errs) > 0 {
		return nil
	}
	ch.Provider, ch.Config, ch.Secrets, ch.SecretNames = provider, public, nil, []string{}
	if len(secrets) == 0 {
		return nil
	}
	if !s.box.Configured() {
		return ErrSecretsUnavailable
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return fmt.Errorf("encode secrets: %w", err)
	}
	sealed, err := s.box.Seal(plain, secretsAD(ch.WorkspaceID, ch.ID))
	if err != nil {
		return fmt.Errorf("seal secrets: %w", err)
	}
	ch.Secrets, ch.SecretNames = sealed, slices.Sorted(maps.Keys(secrets))
	return nil
}

// openSecrets returns a channel's secrets in the clear.
func (s *Service) openSecrets(ch Channel) (map[string]string, error) {
	out := map[string]string{}
	if len(ch.Secrets) == 0 {
		return out, nil
	}
	if !s.box.Configured() {
		return nil, ErrSecretsUnavailable
	}
	plain, err := s.box.Open(ch.Secrets, secretsAD(ch.WorkspaceID, ch.ID))
	if err != nil {
		return nil, fmt.Errorf("open secrets of channel %s: %w", ch.ID, err)
	}
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("decode secrets of channel %s: %w", ch.ID, err)
	}
	return out, nil
}

// Secrets returns a channel's provider secrets in the clear, for the code that delivers.
func (s *Service) Secrets(ch Channel) (map[string]string, error) { return s.openSecrets(ch) }

// Create connects a channel. Without a provider it uses the sandbox.
func (s *Service) Create(ctx context.Context, ws uuid.UUID, n New) (Channel, error) {
	var errs errkind.Fields
	t, ok := rules.ParseType(n.Type)
	if !ok {
		errs.Add("type", "must be one of "+typeNames())
	}
	now := Now(s.now)
	ch := Channel{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), Type: t, Routing: Routing{Mode: RoutingManual}, Name: checkName(n.Name, &errs),
		Provider: ProviderSandbox, Config: map[string]any{}, SecretNames: []string{}, CreatedAt: now, UpdatedAt: now}
	if ok {
		ch.RuleOptions = checkOptions(t, n.RuleOptions, &errs)
		provider := ProviderSandbox
		if n.Provider != nil {
			provider = *n.Provider
		}
		if err := s.applyProvider(&ch, provider, n.Config, &errs); err != nil {
			return Channel{}, err
		}
	} else if n.Provider != nil {
		knownProvider(*n.Provider, &errs)
	}
	if err := errs.Err(); err != nil {
		return Channel{}, err
	}
	rec, err := s.changes(audit.ChannelCreated, Channel{}, ch)
	if err != nil {
		return Channel{}, err
	}
	if err := s.store.CreateChannel(ctx, ch, rec); err != nil {
		return Channel{}, fmt.Errorf("create channel: %w", err)
	}
	return ch, nil
}

// Get returns one channel.
func (s *Service) Get(ctx context.Context, ws, id uuid.UUID) (Channel, error) {
	return s.store.Channel(ctx, ws, id)
}

// List returns a page of channels, oldest first.
func (s *Service) List(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Channel, string, error) {
	return s.store.Channels(ctx, ws, f, p)
}

// Update changes a channel's name, rule options or config. It changes neither its type nor
// its provider (SetProvider does): a patch that names others is ErrTypeMismatch or
// ErrProviderMismatch.
func (s *Service) Update(ctx context.Context, ws, id uuid.UUID, p Patch) (Channel, error) {
	return s.store.UpdateChannel(ctx, ws, id, s.audited(func(ch *Channel) error {
		var errs errkind.Fields
		if err := checkType(*ch, p.Type, &errs); err != nil {
			return err
		}
		switch {
		case p.Provider != nil:
			if _, ok := knownProvider(*p.Provider, &errs); ok && *p.Provider != ch.Provider {
				return ErrProviderMismatch.Detailf("The channel's provider is %s, not %s; change providers with PUT /v1/channels/{id}/provider.", ch.Provider, *p.Provider)
			}
		case p.Config != nil:
			// config is read as one provider's settings: the patch says whose.
			errs.Add("provider", fmt.Sprintf("is required with config: name the channel's provider (%s)", ch.Provider))
		}
		if len(errs) > 0 {
			// What the rest means depends on the type and provider.
			return errs.Err()
		}
		if p.Name != nil {
			ch.Name = checkName(*p.Name, &errs)
		}
		if p.RuleOptions != nil {
			merged := ch.RuleOptions.Map(ch.Type)
			for k, v := range p.RuleOptions {
				if v == nil {
					delete(merged, k)
				} else {
					merged[k] = v
				}
			}
			ch.RuleOptions = checkOptions(ch.Type, merged, &errs)
		}
		if p.Routing != nil {
			p.Routing.apply(&ch.Routing, &errs)
		}
		if p.Config != nil {
			config, err := s.mergeConfig(*ch, p.Config, &errs)
			if err != nil {
				return err
			}
			if err := s.applyProvider(ch, ch.Provider, config, &errs); err != nil {
				return err
			}
		}
		if err := errs.Err(); err != nil {
			return err
		}
		ch.UpdatedAt = Now(s.now)
		return nil
	}))
}

// audited turns apply into an UpdateChannel change that also records what it changed
// (channel.updated), when it changed anything.
func (s *Service) audited(apply func(*Channel) error) func(*Channel) ([]audit.Record, error) {
	return func(ch *Channel) ([]audit.Record, error) {
		before := *ch
		if err := apply(ch); err != nil {
			return nil, err
		}
		rec, err := s.changes(audit.ChannelUpdated, before, *ch)
		if err != nil || len(rec.Changes) == 0 {
			return nil, err
		}
		return []audit.Record{rec}, nil
	}
}

// changes is the audit record of a channel going from a to b (a zero Channel: created). The
// config's public settings are keyed config.<name>; its secrets are opened only to compare
// them, and recorded as "changed" or null.
func (s *Service) changes(action string, a, b Channel) (audit.Record, error) {
	ch := audit.Changes{}
	created := a.ID == uuid.Nil
	if created {
		ch.Set("type", nil, string(b.Type))
		ch.Set("name", nil, b.Name)
		ch.Set("provider", nil, b.Provider)
		ch.Set("rule_options", nil, b.RuleOptions.Map(b.Type))
	} else {
		ch.Set("name", a.Name, b.Name)
		ch.Set("provider", a.Provider, b.Provider)
		ch.Set("rule_options", a.RuleOptions.Map(a.Type), b.RuleOptions.Map(b.Type))
	}
	for _, k := range slices.Sorted(maps.Keys(union(a.Config, b.Config))) {
		before, had := a.Config[k]
		after, has := b.Config[k]
		if !had {
			before = nil
		}
		if !has {
			after = nil
		}
		ch.Set("config."+k, before, after)
	}
	if len(a.Secrets) > 0 || len(b.Secrets) > 0 {
		old, err := s.openSecrets(a)
		if err != nil {
			return audit.Record{}, err
		}
		cur, err := s.openSecrets(b)
		if err != nil {
			return audit.Record{}, err
		}
		for _, k := range slices.Sorted(maps.Keys(union(old, cur))) {
			before, had := old[k]
			after, has := cur[k]
			ch.Secret("config."+k, had, has, before != after)
		}
	}
	return audit.On(action, "channel", b.ID, ch), nil
}

func union[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// checkType holds the type a change names to the channel's: absent or unknown is invalid
// input, another known type ErrTypeMismatch.
func checkType(ch Channel, typ string, errs *errkind.Fields) error {
	t, ok := rules.ParseType(typ)
	switch {
	case typ == "":
		errs.Add("type", fmt.Sprintf("is required: the channel's type (%s)", ch.Type))
	case !ok:
		errs.Add("type", "must be one of "+typeNames())
	case t != ch.Type:
		return ErrTypeMismatch.Detailf("The channel is a %s channel, not %s: a channel's type never changes.", ch.Type, t)
	}
	return nil
}

// mergeConfig is the channel's settings, secrets opened, with a patch's config over them: a
// value replaces, null clears, absent keeps. Of a group of which exactly one must be set
// (Twilio's sender), setting a member replaces the group, and a member is cleared only by
// setting another: so whether a patch is taken never depends on which member is stored, and
// the spec can say exactly which patches are (one member, or none, of the group).
func (s *Service) mergeConfig(ch Channel, patch map[string]any, errs *errkind.Fields) (map[string]any, error) {
	old, err := s.openSecrets(ch)
	if err != nil {
		return nil, err
	}
	config := maps.Clone(ch.Config)
	if config == nil {
		config = map[string]any{}
	}
	for k, v := range old {
		config[k] = v
	}
	keep := map[string]bool{} // members cleared alone: refused, so their stored value stays
	spec, _ := lookupProvider(ch.Provider)
	for _, group := range spec.oneOf {
		var set, cleared []string
		for _, name := range group {
			if v, ok := patch[name]; ok && v == nil {
				cleared = append(cleared, name)
			} else if ok {
				set = append(set, name)
			}
		}
		if len(set) == 0 && len(cleared) > 0 {
			errs.Add("config."+cleared[0], "cannot be cleared alone: set one of "+strings.Join(group, ", ")+" instead")
			for _, name := range cleared {
				keep[name] = true
			}
		}
		if len(set) > 0 {
			for _, name := range group {
				delete(config, name)
			}
		}
	}
	for k, v := range patch {
		if !keep[k] {
			config[k] = v
		}
	}
	return config, nil
}

// SetProvider replaces a channel's provider and config, checked and sealed as Create does.
// Its type never changes: a switch that names another is ErrTypeMismatch.
func (s *Service) SetProvider(ctx context.Context, ws, id uuid.UUID, sw ProviderSwitch) (Channel, error) {
	return s.store.UpdateChannel(ctx, ws, id, s.audited(func(ch *Channel) error {
		var errs errkind.Fields
		if err := checkType(*ch, sw.Type, &errs); err != nil {
			return err
		}
		if len(errs) == 0 {
			if err := s.applyProvider(ch, sw.Provider, sw.Config, &errs); err != nil {
				return err
			}
		}
		if err := errs.Err(); err != nil {
			return err
		}
		ch.UpdatedAt = Now(s.now)
		return nil
	}))
}

// Delete deletes a channel without messages, or archives one with messages (its history
// stays; it takes no new messages or identities). It reports whether it archived.
func (s *Service) Delete(ctx context.Context, ws, id uuid.UUID) (bool, error) {
	return s.store.DeleteChannel(ctx, ws, id, Now(s.now), func(ch Channel, archived bool) audit.Record {
		// Both are channel.deleted, what the client asked for; an archived channel keeps its
		// row and history, so its entry says archived rather than that the channel is gone.
		if archived {
			return audit.On(audit.ChannelDeleted, "channel", ch.ID, audit.Changes{"archived": {Before: false, After: true}})
		}
		return audit.On(audit.ChannelDeleted, "channel", ch.ID, audit.Changes{"name": {Before: ch.Name}})
	})
}

// Identities lists a contact's channel identities.
func (s *Service) Identities(ctx context.Context, ws, contactID uuid.UUID, p page.Request) ([]Identity, string, error) {
	return s.store.Identities(ctx, ws, contactID, p)
}

// AddIdentity gives a contact an address on a channel. The identifier is normalised for the
// channel's type; it must be free on that channel.
func (s *Service) AddIdentity(ctx context.Context, ws, contactID, channelID uuid.UUID, identifier string) (Identity, error) {
	ch, err := s.store.Channel(ctx, ws, channelID)
	if errors.Is(err, ErrNotFound) {
		return Identity{}, errkind.Invalid(errkind.Field{Field: "channel_id", Message: "must be a channel of this workspace"})
	}
	if err != nil {
		return Identity{}, fmt.Errorf("add identity: %w", err)
	}
	if ch.Archived() {
		return Identity{}, ErrArchived
	}
	w, err := s.store.Workspace(ctx, ws)
	if err != nil {
		return Identity{}, fmt.Errorf("add identity: %w", err)
	}
	norm, err := NormalizeIdentifier(ch.Type, identifier, w.Settings.DefaultPhoneRegion)
	if err != nil {
		return Identity{}, err
	}
	now := Now(s.now)
	id := Identity{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), ContactID: contactID, ChannelID: ch.ID,
		ChannelType: ch.Type, Identifier: norm, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateIdentity(ctx, &id); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// MaxIdentifier bounds an opaque platform id.
const MaxIdentifier = 256

// NormalizeIdentifier returns the canonical form of a contact's address on a channel type:
// E.164 for WhatsApp and SMS (national numbers read in region), a lower-cased address for
// email, and the platform's opaque id, trimmed, for the others. Errors name "identifier".
func NormalizeIdentifier(t rules.ChannelType, raw, region string) (string, error) {
	bad := func(msg string) error {
		return errkind.Invalid(errkind.Field{Field: "identifier", Message: msg})
	}
	raw = strings.TrimSpace(raw)
	switch t {
	case rules.WhatsApp, rules.SMS:
		p, err := phone.Normalize(raw, region)
		if err != nil {
			return "", bad("must be a phone number, international (+1 202 555 0123) or national to the workspace's default_phone_region")
		}
		return p, nil
	case rules.Email:
		e, ok := workspace.NormalizeEmail(raw)
		if !ok {
			return "", bad("must be an email address")
		}
		return e, nil
	}
	if raw == "" || utf8.RuneCountInString(raw) > MaxIdentifier || !utf8.ValidString(raw) {
		return "", bad(fmt.Sprintf("must be 1 to %d characters", MaxIdentifier))
	}
	if strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return "", bad("must not contain control characters")
	}
	return raw, nil
}
