// Package workspace provides the tenant: its settings, its members and their roles, and the
// bootstrap that creates a workspace with its first owner.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/password"
	"github.com/switchboard/switchboard/pkg/phone"
)

// Role is what a user may do in a workspace.
type Role string

// The roles. Owners and managers manage the workspace; agents work conversations.
const (
	RoleOwner   Role = "owner"
	RoleManager Role = "manager"
	RoleAgent   Role = "agent"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleManager || r == RoleAgent }

// Manages reports whether the role may manage users, keys, channels and settings.
func (r Role) Manages() bool { return r == RoleOwner || r == RoleManager }

// Settings shape how conversations behave in a workspace.
type Settings struct {
	UnassignOnClose       bool
	ClosingNoteRequired   bool
	ClosingNoteCategories []string
	DefaultPhoneRegion    string
	// WindowClosingMinutes is how long before a reply window closes it counts as closing: the
	// inbox's window=closing, and the window.expiring alert.
	WindowClosingMinutes int
	// AuditRetentionDays is how long the audit log keeps an entry (audit.MinRetentionDays to
	// audit.MaxRetentionDays); a periodic job deletes older ones.
	AuditRetentionDays int
}

// Limits of WindowClosingMinutes: a minute to a day (WhatsApp's whole window).
const (
	DefaultWindowClosingMinutes = 60
	MinWindowClosingMinutes     = 1
	MaxWindowClosingMinutes     = 24 * 60
)

// WindowLead is WindowClosingMinutes as a duration.
func (s Settings) WindowLead() time.Duration {
	return time.Duration(s.WindowClosingMinutes) * time.Minute
}

// Workspace is the tenant.
type Workspace struct {
	ID        uuid.UUID
	Name      string
	Settings  Settings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is a member of a workspace.
type User struct {
	WorkspaceID  uuid.UUID
	ID           uuid.UUID
	Email        string
	Name         string
	Role         Role
	PasswordHash string
	// Availability is whether routing may give the user conversations (online) or not.
	Availability Availability
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Availability is whether a user takes routed conversations now.
type Availability string

// The availabilities. A new user is offline until they say otherwise.
const (
	Online  Availability = "online"
	Away    Availability = "away"
	Offline Availability = "offline"
)

// Valid reports whether a is one of the availabilities.
func (a Availability) Valid() bool { return a == Online || a == Away || a == Offline }

// Errors of this package.
var (
	ErrNotFound     = errkind.New(errkind.KindNotFound, "workspace_not_found", "The workspace does not exist.")
	ErrUserNotFound = errkind.New(errkind.KindNotFound, "user_not_found", "No such user in this workspace.")
	ErrEmailTaken   = errkind.New(errkind.KindConflict, "email_taken", "A user with this email already exists.")
	ErrLastOwner    = errkind.New(errkind.KindConflict, "last_owner", "The workspace must keep at least one owner.")
	ErrOwnerOnly    = errkind.New(errkind.KindForbidden, "owner_only", "Only an owner may grant or take the owner role, or change or remove an owner or another manager.")
	// ErrPasswordForbidden guards against takeover: whoever sets a password can log in as the user.
	ErrPasswordForbidden = errkind.New(errkind.KindForbidden, "password_change_forbidden", "Only the user themself or an owner may set a password.")
	// ErrCurrentPasswordWrong answers a user changing their own password with a wrong current one.
	ErrCurrentPasswordWrong = &errkind.Error{Kind: errkind.KindInvalid, Code: "validation_failed",
		Detail: "current_password: is not your current password.",
		Fields: []errkind.Field{{Field: "current_password", Message: "is not your current password"}}}
)

// Store is what the workspace service needs from persistence.
type Store interface {
	// CreateWorkspace stores a workspace with its owner; an owner email that any workspace
	// already has is ErrEmailTaken (members' emails are unique per workspace only).
	CreateWorkspace(ctx context.Context, ws Workspace, owner User) error
	Workspace(ctx context.Context, id uuid.UUID) (Workspace, error)
	// UpdateWorkspace locks the workspace, applies the change and saves it with the audit
	// records apply returns, in one transaction.
	UpdateWorkspace(ctx context.Context, id uuid.UUID, apply func(*Workspace) ([]audit.Record, error)) (Workspace, error)
	// CreateUser stores a user with its audit record.
	CreateUser(ctx context.Context, u User, rec audit.Record) error
	User(ctx context.Context, ws, id uuid.UUID) (User, error)
	Users(ctx context.Context, ws uuid.UUID, p page.Request) ([]User, string, error)
	// UpdateUser locks the workspace's owners and the user, and calls apply with the number of
	// owners, so the last owner can never be demoted by two concurrent requests. It ends the
	// sessions apply names in the same transaction as the user's new row.
	// apply also returns the change's audit records, which go in the same transaction.
	UpdateUser(ctx context.Context, ws, id uuid.UUID, apply func(u *User, owners int) (EndSessions, []audit.Record, error)) (User, error)
	// DeleteUser removes the user if check allows it, with check's audit record.
	DeleteUser(ctx context.Context, ws, id uuid.UUID, check func(u User, owners int) (audit.Record, error)) error
	// SetAvailability sets a user's availability and answers the user.
	SetAvailability(ctx context.Context, ws, id uuid.UUID, a Availability, now time.Time) (User, error)
}

// SetAvailability sets whether the user takes routed conversations: only online users are
// routed to. Going away or offline leaves the conversations already assigned to them as they
// are (a manager reassigns them, e.g. with POST /v1/conversations/bulk).
func (s *Service) SetAvailability(ctx context.Context, ws, id uuid.UUID, a Availability) (User, error) {
	if !a.Valid() {
		return User{}, errkind.Invalid(errkind.Field{Field: "availability", Message: "must be one of online, away, offline"})
	}
	return s.store.SetAvailability(ctx, ws, id, a, s.now().UTC().Truncate(time.Microsecond))
}

// Service runs the workspace use cases.
type Service struct {
	store   Store
	hashes  *password.Gate
	confirm ConfirmFunc
	now     func() time.Time
}

// ConfirmFunc checks that plain is u's current password: a user changing their own password
// proves it first, so a stolen access token cannot lock its user out for good.
type ConfirmFunc func(ctx context.Context, u User, plain string) error

// NewService builds a Service. Its password hashes (new users, password changes) wait their
// turn in hashes, the gate logins use, so a flood of user writes cannot take the memory or the
// CPU either; nil: a gate of one hash at a time. confirm checks a current password (auth's,
// which counts wrong ones against the login throttle); a service built without it (bootstrap
// and test set-ups, which change no passwords) refuses a user's change of their own password
// rather than check it without the throttle.
func NewService(st Store, hashes *password.Gate, confirm ConfirmFunc, now func() time.Time) *Service {
	if hashes == nil {
		hashes = password.NewGate(1, 3*time.Second)
	}
	return &Service{store: st, hashes: hashes, confirm: confirm, now: now}
}

// NormalizeEmail trims and lower-cases an address and checks it is a bare address.
func NormalizeEmail(raw string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" || len(e) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", false
	}
	return e, true
}

// NewUser is the input for creating a user.
type NewUser struct {
	Email, Name, Password string
	Role                  Role
}

func (n *NewUser) validate() error {
	var f errkind.Fields
	email, ok := NormalizeEmail(n.Email)
	if !ok {
		f.Add("email", "must be a valid email address")
	}
	n.Email = email
	n.Name = strings.TrimSpace(n.Name)
	if utf8.RuneCountInString(n.Name) > 200 {
		f.Add("name", "must be at most 200 characters")
	}
	if msg := password.Check(n.Password); msg != "" {
		f.Add("password", msg)
	}
	if !n.Role.Valid() {
		f.Add("role", "must be one of owner, manager, agent")
	}
	return f.Err()
}

func (s *Service) newUser(ctx context.Context, ws uuid.UUID, n NewUser) (User, error) {
	hash, err := s.hashes.Hash(ctx, n.Password)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.now().UTC()
	return User{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), Email: n.Email, Name: n.Name, Role: n.Role, Availability: Offline,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}, nil
}

// Bootstrap creates a workspace and its owner. An email already in use changes nothing.
func (s *Service) Bootstrap(ctx context.Context, name string, owner NewUser) (Workspace, User, error) {
	owner.Role = RoleOwner
	var f errkind.Fields
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		f.Add("workspace", "must be 1 to 200 characters")
	}
	if err := owner.validate(); err != nil {
		e, _ := errkind.As(err)
		f = append(f, e.Fields...)
	}
	if err := f.Err(); err != nil {
		return Workspace{}, User{}, err
	}
	now := s.now().UTC()
	ws := Workspace{ID: uuid.Must(uuid.NewV7()), Name: name, CreatedAt: now, UpdatedAt: now,
		Settings: Settings{DefaultPhoneRegion: "US", ClosingNoteCategories: []string{}, WindowClosingMinutes: DefaultWindowClosingMinutes,
			AuditRetentionDays: audit.DefaultRetentionDays}}
	u, err := s.newUser(ctx, ws.ID, owner)
	if err != nil {
		return Workspace{}, User{}, err
	}
	if err := s.store.CreateWorkspace(ctx, ws, u); err != nil {
		return Workspace{}, User{}, fmt.Errorf("bootstrap workspace: %w", err)
	}
	return ws, u, nil
}

// Get returns the workspace.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Workspace, error) {
	return s.store.Workspace(ctx, id)
}

// Patch changes a workspace; nil fields stay as they are.
type Patch struct {
	Name                  *string
	UnassignOnClose       *bool
	ClosingNoteRequired   *bool
	ClosingNoteCategories *[]string
	DefaultPhoneRegion    *string
	WindowClosingMinutes  *int
	AuditRetentionDays    *int
}

// settingsChanges are the fields of the workspace (its name and settings) that differ, by
// their API names.
func settingsChanges(a, b Workspace) audit.Changes {
	ch := audit.Changes{}
	ch.Set("name", a.Name, b.Name)
	ch.Set("unassign_on_close", a.Settings.UnassignOnClose, b.Settings.UnassignOnClose)
	ch.Set("closing_note_required", a.Settings.ClosingNoteRequired, b.Settings.ClosingNoteRequired)
	ch.Set("closing_note_categories", orEmpty(a.Settings.ClosingNoteCategories), orEmpty(b.Settings.ClosingNoteCategories))
	ch.Set("default_phone_region", a.Settings.DefaultPhoneRegion, b.Settings.DefaultPhoneRegion)
	ch.Set("window_closing_minutes", a.Settings.WindowClosingMinutes, b.Settings.WindowClosingMinutes)
	ch.Set("audit_retention_days", a.Settings.AuditRetentionDays, b.Settings.AuditRetentionDays)
	return ch
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Update applies a patch after validating it.
func (s *Service) Update(ctx context.Context, id uuid.UUID, p Patch) (Workspace, error) {
	var f errkind.Fields
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if n == "" || utf8.RuneCountInString(n) > 200 {
			f.Add("name", "must be 1 to 200 characters")
		}
		p.Name = &n
	}
	if p.ClosingNoteCategories != nil {
		seen := map[string]bool{}
		cats := make([]string, 0, len(*p.ClosingNoteCategories))
		for i, c := range *p.ClosingNoteCategories {
			c = strings.TrimSpace(c)
			switch {
			case c == "" || utf8.RuneCountInString(c) > 100:
				f.Add(fmt.Sprintf("closing_note_categories[%d]", i), "must be 1 to 100 characters")
			case seen[c]:
				f.Add(fmt.Sprintf("closing_note_categories[%d]", i), "is a duplicate")
			}
			seen[c] = true
			cats = append(cats, c)
		}
		if len(cats) > 50 {
			f.Add("closing_note_categories", "at most 50 categories")
		}
		p.ClosingNoteCategories = &cats
	}
	if p.DefaultPhoneRegion != nil {
		r := strings.ToUpper(strings.TrimSpace(*p.DefaultPhoneRegion))
		if !phone.ValidRegion(r) {
			f.Add("default_phone_region", "must be an ISO 3166-1 alpha-2 region with a phone numbering plan, e.g. US, GB, DE")
		}
		p.DefaultPhoneRegion = &r
	}
	if m := p.WindowClosingMinutes; m != nil && (*m < MinWindowClosingMinutes || *m > MaxWindowClosingMinutes) {
		f.Add("window_closing_minutes", fmt.Sprintf("must be %d to %d", MinWindowClosingMinutes, MaxWindowClosingMinutes))
	}
	if d := p.AuditRetentionDays; d != nil && (*d < audit.MinRetentionDays || *d > audit.MaxRetentionDays) {
		f.Add("audit_retention_days", fmt.Sprintf("must be %d to %d", audit.MinRetentionDays, audit.MaxRetentionDays))
	}
	if err := f.Err(); err != nil {
		return Workspace{}, err
	}
	return s.store.UpdateWorkspace(ctx, id, func(w *Workspace) ([]audit.Record, error) {
		before := *w
		if p.Name != nil {
			w.Name = *p.Name
		}
		if p.UnassignOnClose != nil {
			w.Settings.UnassignOnClose = *p.UnassignOnClose
		}
		if p.ClosingNoteRequired != nil {
			w.Settings.ClosingNoteRequired = *p.ClosingNoteRequired
		}
		if p.ClosingNoteCategories != nil {
			w.Settings.ClosingNoteCategories = *p.ClosingNoteCategories
		}
		if p.DefaultPhoneRegion != nil {
			w.Settings.DefaultPhoneRegion = *p.DefaultPhoneRegion
		}
		if p.WindowClosingMinutes != nil {
			w.Settings.WindowClosingMinutes = *p.WindowClosingMinutes
		}
		if p.AuditRetentionDays != nil {
			w.Settings.AuditRetentionDays = *p.AuditRetentionDays
		}
		w.UpdatedAt = s.now().UTC()
		ch := settingsChanges(before, *w)
		if len(ch) == 0 {
			return nil, nil // nothing changed: nothing to record
		}
		return []audit.Record{audit.On(audit.WorkspaceSettingsChanged, "workspace", w.ID, ch)}, nil
	})
}

// Actor is who asks for a user change: their role decides what they may do to others, and
// being the user themself lets anyone change their own name and password.
type Actor struct {
	// Role is the acting user's role; an admin key acts as a manager, and a key without the
	// admin scope has no role (it manages nobody).
	Role Role
	// UserID is the acting user (uuid.Nil for a key: a key is never "themself").
	UserID uuid.UUID
	// SessionID is the acting user's session: it stays alive when they change their own password.
	SessionID uuid.UUID
}

func (a Actor) isUser(id uuid.UUID) bool { return a.UserID != uuid.Nil && a.UserID == id }

// outranks reports whether a may change or remove a user of the role (someone else): owners
// anyone, managers (and admin keys) agents only, so a manager cannot take over an owner or
// another manager.
func (a Actor) outranks(r Role) bool {
	switch a.Role {
	case RoleOwner:
		return true
	case RoleManager:
		return r == RoleAgent
	}
	return false
}

// mayTouch is the check updates and deletes share: whether a may change or remove u at all.
func (a Actor) mayTouch(u User) error {
	if a.isUser(u.ID) || a.outranks(u.Role) {
		return nil
	}
	if a.Role.Manages() {
		return ErrOwnerOnly.Detailf("Only an owner may change or remove a user with the %s role.", u.Role)
	}
	return errkind.ErrForbidden
}

// EndSessions is what a user change does to the user's sessions, in its transaction.
type EndSessions struct {
	All    bool      // end the user's live sessions (access and refresh tokens stop working)
	Except uuid.UUID // but keep this one (uuid.Nil: none)
}

// CreateUser adds a member. Only owners may create owners.
func (s *Service) CreateUser(ctx context.Context, ws uuid.UUID, by Actor, n NewUser) (User, error) {
	if err := n.validate(); err != nil {
		return User{}, err
	}
	if n.Role == RoleOwner && by.Role != RoleOwner {
		return User{}, ErrOwnerOnly
	}
	u, err := s.newUser(ctx, ws, n)
	if err != nil {
		return User{}, err
	}
	ch := audit.Changes{}
	ch.Set("email", nil, u.Email)
	ch.Set("name", nil, u.Name)
	ch.Set("role", nil, string(u.Role))
	ch.Secret("password", false, true, true)
	if err := s.store.CreateUser(ctx, u, audit.On(audit.UserCreated, "user", u.ID, ch)); err != nil {
		return User{}, err
	}
	return u, nil
}

// User returns one member.
func (s *Service) User(ctx context.Context, ws, id uuid.UUID) (User, error) {
	return s.store.User(ctx, ws, id)
}

// Users lists members, oldest first.
func (s *Service) Users(ctx context.Context, ws uuid.UUID, p page.Request) ([]User, string, error) {
	return s.store.Users(ctx, ws, p)
}

// UserPatch changes a user; nil fields stay.
type UserPatch struct {
	Name     *string
	Role     *Role
	Password *string
	// CurrentPassword is required when a user changes their own password.
	CurrentPassword *string
}

// UpdateUser changes a member's name, role or password, keeping at least one owner.
//
// Anyone may change their own name and password. Otherwise owners change anyone, managers
// (and admin keys) change agents only, agents nobody; only owners grant or take the owner role;
// and only the user or an owner sets a password, since whoever sets it can log in as the user.
// A password change ends the user's other sessions; the session that changed its own user's
// password stays (that user just proved they hold it).
func (s *Service) UpdateUser(ctx context.Context, ws, id uuid.UUID, by Actor, p UserPatch) (User, error) {
	self := by.isUser(id)
	// Decided before the password is hashed or the user read: a refusal costs nothing.
	if !self && !by.Role.Manages() {
		return User{}, errkind.ErrForbidden
	}
	if p.Password != nil && !self && by.Role != RoleOwner {
		return User{}, ErrPasswordForbidden
	}
	var f errkind.Fields
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if utf8.RuneCountInString(n) > 200 {
			f.Add("name", "must be at most 200 characters")
		}
		p.Name = &n
	}
	if p.Role != nil && !p.Role.Valid() {
		f.Add("role", "must be one of owner, manager, agent")
	}
	var hash string
	if p.Password != nil {
		if msg := password.Check(*p.Password); msg != "" {
			f.Add("password", msg)
		}
		if self && p.CurrentPassword == nil {
			f.Add("current_password", "is required to change your own password")
		}
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	if p.Password != nil && self {
		if s.confirm == nil {
			return User{}, errors.New("update user: no password confirmation configured")
		}
		u, err := s.store.User(ctx, ws, id)
		if err != nil {
			return User{}, err
		}
		if err := s.confirm(ctx, u, *p.CurrentPassword); err != nil {
			return User{}, err
		}
	}
	if p.Password != nil {
		h, err := s.hashes.Hash(ctx, *p.Password)
		if err != nil {
			return User{}, fmt.Errorf("hash password: %w", err)
		}
		hash = h
	}
	return s.store.UpdateUser(ctx, ws, id, func(u *User, owners int) (EndSessions, []audit.Record, error) {
		if err := by.mayTouch(*u); err != nil {
			return EndSessions{}, nil, err
		}
		before := *u
		if p.Role != nil && *p.Role != u.Role {
			if !by.Role.Manages() { // an agent changing their own role
				return EndSessions{}, nil, errkind.ErrForbidden
			}
			if (u.Role == RoleOwner || *p.Role == RoleOwner) && by.Role != RoleOwner {
				return EndSessions{}, nil, ErrOwnerOnly
			}
			if u.Role == RoleOwner && owners <= 1 {
				return EndSessions{}, nil, ErrLastOwner
			}
			u.Role = *p.Role
		}
		if p.Name != nil {
			u.Name = *p.Name
		}
		var end EndSessions
		if hash != "" {
			u.PasswordHash = hash
			end.All = true
			if self {
				end.Except = by.SessionID
			}
		}
		u.UpdatedAt = s.now().UTC()
		return end, userChanges(before, *u, hash != ""), nil
	})
}

// DeleteUser removes a member; their conversations become unassigned. The rule is
// UpdateUser's: owners remove anyone, managers (and admin keys) agents only, anyone themself.
func (s *Service) DeleteUser(ctx context.Context, ws, id uuid.UUID, by Actor) error {
	if !by.isUser(id) && !by.Role.Manages() {
		return errkind.ErrForbidden
	}
	return s.store.DeleteUser(ctx, ws, id, func(u User, owners int) (audit.Record, error) {
		if err := by.mayTouch(u); err != nil {
			return audit.Record{}, err
		}
		if u.Role == RoleOwner && owners <= 1 {
			return audit.Record{}, ErrLastOwner
		}
		ch := audit.Changes{}
		ch.Set("email", u.Email, nil)
		ch.Set("name", u.Name, nil)
		ch.Set("role", string(u.Role), nil)
		return audit.On(audit.UserDeleted, "user", u.ID, ch), nil
	})
}

// userChanges are the audit records of a user's change: each of role and password has its
// action (a password only as "changed"), and the name goes in user.updated.
func userChanges(a, b User, passwordSet bool) []audit.Record {
	var out []audit.Record
	if a.Role != b.Role {
		out = append(out, audit.On(audit.UserRoleChanged, "user", b.ID, audit.Changes{"role": {Before: string(a.Role), After: string(b.Role)}}))
	}
	if passwordSet {
		ch := audit.Changes{}
		ch.Secret("password", true, true, true)
		out = append(out, audit.On(audit.UserPasswordChanged, "user", b.ID, ch))
	}
	if a.Name != b.Name {
		out = append(out, audit.On(audit.UserUpdated, "user", b.ID, audit.Changes{"name": {Before: a.Name, After: b.Name}}))
	}
	return out
}
