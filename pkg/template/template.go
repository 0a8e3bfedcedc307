// Package template provides pre-approved message templates (WhatsApp and WeChat templates,
// and any channel's): their validation, their {{n}} placeholders and rendering.
package template

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

// Categories and statuses, as WhatsApp names them.
var (
	Categories = []string{"marketing", "utility", "authentication"}
	Statuses   = []string{"approved", "pending", "rejected", "paused"}
)

// StatusApproved is the only status a template can be sent in.
const StatusApproved = "approved"

// Button is a quick reply or a call to action.
type Button struct {
	Type  string // quick_reply, url, phone_number
	Text  string
	Value string // the URL or phone number; empty for quick replies
}

// Template is a channel's pre-approved message.
type Template struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	ChannelID   uuid.UUID
	Name        string
	Language    string
	Category    string
	Status      string
	Body        string
	Header      string
	Footer      string
	Buttons     []Button
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Errors of this package.
var (
	ErrNotFound = errkind.New(errkind.KindNotFound, "template_not_found", "No such template in this workspace.")
	ErrExists   = errkind.New(errkind.KindConflict, "template_exists", "The channel already has a template with this name and language.")
)

var (
	nameRe        = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	languageRe    = regexp.MustCompile(`^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$`)
	placeholderRe = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
)

// Limits, from WhatsApp's template rules.
const (
	maxBody    = 1024
	maxHeader  = 60
	maxFooter  = 60
	maxButtons = 10
	maxVarLen  = 1024
)

// Placeholders returns how many numbered placeholders text uses, checking that they are
// {{1}}…{{n}} without gaps. The message says what is wrong.
func Placeholders(text string) (int, string) {
	seen := map[int]bool{}
	max := 0
	for _, m := range placeholderRe.FindAllStringSubmatch(text, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || strconv.Itoa(n) != m[1] {
			return 0, fmt.Sprintf("placeholder {{%s}} must be a number from 1, like {{1}}", m[1])
		}
		seen[n] = true
		if n > max {
			max = n
		}
	}
	for i := 1; i <= max; i++ {
		if !seen[i] {
			return 0, fmt.Sprintf("placeholders must be numbered {{1}} to {{%d}} without gaps; {{%d}} is missing", max, i)
		}
	}
	return max, ""
}

// Variables is the number of values a send must supply for the body.
func (t Template) Variables() int {
	n, _ := Placeholders(t.Body)
	return n
}

// Render fills the body's placeholders; it fails when the count is wrong or a value is empty.
func (t Template) Render(vars []string) (string, error) {
	n := t.Variables()
	if len(vars) != n {
		return "", fmt.Errorf("the template %s takes %d variables, got %d", t.Name, n, len(vars))
	}
	for i, v := range vars {
		if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > maxVarLen {
			return "", fmt.Errorf("variable %d must be 1 to %d characters", i+1, maxVarLen)
		}
	}
	return placeholderRe.ReplaceAllStringFunc(t.Body, func(m string) string {
		i, _ := strconv.Atoi(placeholderRe.FindStringSubmatch(m)[1])
		return vars[i-1]
	}), nil
}

// Fields are a template's editable parts; in a patch nil fields stay as they are.
type Fields struct {
	Name     *string
	Language *string
	Category *string
	Status   *string
	Body     *string
	Header   *string
	Footer   *string
	Buttons  *[]Button
}

// apply validates f onto t.
func (f Fields) apply(t *Template) error {
	var errs errkind.Fields
	if f.Name != nil {
		t.Name = strings.TrimSpace(*f.Name)
	}
	if f.Language != nil {
		t.Language = strings.TrimSpace(*f.Language)
	}
	if f.Category != nil {
		t.Category = *f.Category
	}
	if f.Status != nil {
		t.Status = *f.Status
	}
	if f.Body != nil {
		t.Body = *f.Body
	}
	if f.Header != nil {
		t.Header = strings.TrimSpace(*f.Header)
	}
	if f.Footer != nil {
		t.Footer = strings.TrimSpace(*f.Footer)
	}
	if f.Buttons != nil {
		t.Buttons = *f.Buttons
	}
	if !nameRe.MatchString(t.Name) {
		errs.Add("name", "must be 1 to 512 characters of a-z, 0-9 and _")
	}
	if !languageRe.MatchString(t.Language) {
		errs.Add("language", "must be a language code such as en, en_US or pt-BR")
	}
	if !contains(Categories, t.Category) {
		errs.Add("category", "must be one of "+strings.Join(Categories, ", "))
	}
	if !contains(Statuses, t.Status) {
		errs.Add("status", "must be one of "+strings.Join(Statuses, ", "))
	}
	if strings.TrimSpace(t.Body) == "" || utf8.RuneCountInString(t.Body) > maxBody {
		errs.Add("body", fmt.Sprintf("must be 1 to %d characters", maxBody))
	} else if _, msg := Placeholders(t.Body); msg != "" {
		errs.Add("body", msg)
	}
	if utf8.RuneCountInString(t.Header) > maxHeader {
		errs.Add("header", fmt.Sprintf("must be at most %d characters", maxHeader))
	}
	if utf8.RuneCountInString(t.Footer) > maxFooter {
		errs.Add("footer", fmt.Sprintf("must be at most %d characters", maxFooter))
	}
	if len(t.Buttons) > maxButtons {
		errs.Add("buttons", fmt.Sprintf("at most %d buttons", maxButtons))
	}
	for i, b := range t.Buttons {
		field := fmt.Sprintf("buttons[%d]", i)
		if b.Text = strings.TrimSpace(b.Text); b.Text == "" || utf8.RuneCountInString(b.Text) > 25 {
			errs.Add(field+".text", "must be 1 to 25 characters")
		}
		switch b.Type {
		case "quick_reply":
			if b.Value != "" {
				errs.Add(field+".value", "must be empty for a quick_reply")
			}
		case "url":
			if !strings.HasPrefix(b.Value, "https://") && !strings.HasPrefix(b.Value, "http://") {
				errs.Add(field+".value", "must be an http(s) URL")
			}
		case "phone_number":
			if b.Value == "" {
				errs.Add(field+".value", "must be a phone number")
			}
		default:
			errs.Add(field+".type", "must be one of quick_reply, url, phone_number")
		}
		t.Buttons[i] = b
	}
	if t.Buttons == nil {
		t.Buttons = []Button{}
	}
	return errs.Err()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Store is what the template service needs from persistence.
type Store interface {
	// ChannelExists fails with the channel's not-found error when the channel is not in ws.
	ChannelExists(ctx context.Context, ws, channel uuid.UUID) error
	// CreateTemplate stores a template with its audit record.
	CreateTemplate(ctx context.Context, t Template, rec audit.Record) error
	Template(ctx context.Context, ws, id uuid.UUID) (Template, error)
	Templates(ctx context.Context, ws, channel uuid.UUID, p page.Request) ([]Template, string, error)
	// UpdateTemplate locks the template, applies the change and saves it with the audit
	// records apply returns.
	UpdateTemplate(ctx context.Context, ws, id uuid.UUID, apply func(*Template) ([]audit.Record, error)) (Template, error)
	// DeleteTemplate deletes the template with its audit record.
	DeleteTemplate(ctx context.Context, ws, id uuid.UUID, rec audit.Record) error
}

// Service runs the template use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds a Service.
func NewService(st Store, now func() time.Time) *Service { return &Service{store: st, now: now} }

// Create adds a template to a channel.
func (s *Service) Create(ctx context.Context, ws, channel uuid.UUID, f Fields) (Template, error) {
	if err := s.store.ChannelExists(ctx, ws, channel); err != nil {
		return Template{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	t := Template{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), ChannelID: channel, CreatedAt: now, UpdatedAt: now}
	if err := f.apply(&t); err != nil {
		return Template{}, err
	}
	if err := s.store.CreateTemplate(ctx, t, audit.On(audit.TemplateCreated, "template", t.ID, changes(Template{}, t))); err != nil {
		return Template{}, err
	}
	return t, nil
}

// Get returns one template.
func (s *Service) Get(ctx context.Context, ws, id uuid.UUID) (Template, error) {
	return s.store.Template(ctx, ws, id)
}

// List returns a channel's templates by name and language.
func (s *Service) List(ctx context.Context, ws, channel uuid.UUID, p page.Request) ([]Template, string, error) {
	if err := s.store.ChannelExists(ctx, ws, channel); err != nil {
		return nil, "", err
	}
	return s.store.Templates(ctx, ws, channel, p)
}

// Update patches a template (e.g. its status as the platform reviews it).
func (s *Service) Update(ctx context.Context, ws, id uuid.UUID, f Fields) (Template, error) {
	return s.store.UpdateTemplate(ctx, ws, id, func(t *Template) ([]audit.Record, error) {
		before := *t
		if err := f.apply(t); err != nil {
			return nil, err
		}
		t.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		ch := changes(before, *t)
		if len(ch) == 0 {
			return nil, nil
		}
		return []audit.Record{audit.On(audit.TemplateUpdated, "template", t.ID, ch)}, nil
	})
}

// changes are the fields that differ from a to b (a zero Template: created), by API name.
func changes(a, b Template) audit.Changes {
	ch := audit.Changes{}
	str := func(field, x, y string) {
		var before any = x
		if a.ID == uuid.Nil {
			before = nil
		}
		ch.Set(field, before, y)
	}
	if a.ID == uuid.Nil {
		ch.Set("channel_id", nil, b.ChannelID.String())
	}
	str("name", a.Name, b.Name)
	str("language", a.Language, b.Language)
	str("category", a.Category, b.Category)
	str("status", a.Status, b.Status)
	str("body", a.Body, b.Body)
	str("header", a.Header, b.Header)
	str("footer", a.Footer, b.Footer)
	var before any = a.Buttons
	if a.ID == uuid.Nil || a.Buttons == nil {
		before = nil
	}
	var after any = b.Buttons
	if b.Buttons == nil {
		after = nil
	}
	ch.Set("buttons", before, after)
	return ch
}

// Delete removes a template; messages already sent keep their rendered text.
func (s *Service) Delete(ctx context.Context, ws, id uuid.UUID) error {
	return s.store.DeleteTemplate(ctx, ws, id, audit.On(audit.TemplateDeleted, "template", id, nil))
}
