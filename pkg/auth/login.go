package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/password"
	"github.com/switchboard/switchboard/pkg/throttle"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// LoginRequest is what a client presents to log in.
type LoginRequest struct {
	Email, Password string
	// WorkspaceID picks the account when the email is a member of several workspaces.
	WorkspaceID *uuid.UUID
	// Client is the client's address, for the per-address throttle.
	Client netip.Addr
}

// Errors of a login beyond invalid_credentials.
var (
	ErrLoginThrottled    = errkind.New(errkind.KindRateLimited, "rate_limited", "Too many failed logins for this email or from this address; retry after the time in Retry-After.")
	ErrWorkspaceRequired = &errkind.Error{Kind: errkind.KindInvalid, Code: "workspace_required",
		Detail: "This email and password match accounts in several workspaces; name one in workspace_id.",
		Fields: []errkind.Field{{Field: "workspace_id", Message: "is required: the email and password match accounts in several workspaces"}}}
)

// maxLoginCandidates bounds the password checks of one login: an email that is a member of
// more workspaces must name its workspace, or one guess would cost that many hashes.
const maxLoginCandidates = 5

// Login checks email and password and starts a session.
//
// Failed logins are throttled per email and per client address, and every password check,
// an unknown email's included, waits its turn for the hash gate: a flood of guesses gets 429
// (or 503 when the gate stays full) instead of the server's memory and CPU.
func (s *Service) Login(ctx context.Context, in LoginRequest) (Tokens, error) {
	email, ok := workspace.NormalizeEmail(in.Email)
	if !ok || in.Password == "" || len(in.Password) > password.MaxLength {
		return Tokens{}, ErrInvalidCredentials
	}
	attempt, err := s.throttle.begin(email, in.Client, s.now())
	if err != nil {
		return Tokens{}, err
	}
	u, failed, err := s.checkPassword(ctx, email, in.Password, in.WorkspaceID)
	attempt.end(s.now(), failed, err == nil)
	if err != nil {
		return Tokens{}, err
	}
	now := s.now().UTC()
	sess := Session{WorkspaceID: u.WorkspaceID, ID: uuid.Must(uuid.NewV7()), UserID: u.ID, CreatedAt: now}
	raw, rt := s.newRefresh(sess, now)
	if err := s.store.CreateSession(ctx, sess, rt, u.PasswordHash); err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	return s.tokens(sess, raw, now)
}

// checkPassword finds the one account the email and password (and workspace, if named) match.
// failed reports a wrong guess, which the throttle counts; a busy gate or a password that
// matches several accounts is not one.
func (s *Service) checkPassword(ctx context.Context, email, plain string, ws *uuid.UUID) (workspace.User, bool, error) {
	users, err := s.store.UsersByEmail(ctx, email, ws, maxLoginCandidates+1)
	if err != nil {
		return workspace.User{}, false, fmt.Errorf("login: %w", err)
	}
	if len(users) > maxLoginCandidates {
		return workspace.User{}, true, ErrWorkspaceRequired
	}
	if len(users) == 0 {
		// An unknown email costs the same hash, in the same queue, so the answer takes as long
		// and says nothing about whether the address has an account.
		if _, err := s.hashes.Verify(ctx, s.dummyHash, plain); errors.Is(err, password.ErrBusy) {
			return workspace.User{}, false, err
		}
		return workspace.User{}, true, ErrInvalidCredentials
	}
	var match []workspace.User
	for _, u := range users {
		ok, err := s.hashes.Verify(ctx, u.PasswordHash, plain)
		if errors.Is(err, password.ErrBusy) {
			return workspace.User{}, false, err
		}
		if err != nil {
			return workspace.User{}, false, fmt.Errorf("login: %w", err)
		}
		if ok {
			match = append(match, u)
		}
	}
	switch len(match) {
	case 0:
		return workspace.User{}, true, ErrInvalidCredentials
	case 1:
		return match[0], false, nil
	}
	return workspace.User{}, false, ErrWorkspaceRequired
}

// loginThrottle holds the failed-login budgets of this process (DESIGN: per process unless
// limits are shared).
type loginThrottle struct {
	emails, addresses *throttle.Limiter
}

func newLoginThrottle(perEmail, perAddress int) *loginThrottle {
	if perEmail < 2 {
		perEmail = 10
	}
	if perAddress < 1 {
		perAddress = 50
	}
	// A token bucket lets through its burst and then what refills while it is spent, so the
	// email's budget is split between the two: no minute sees more than perEmail failures
	// (DESIGN: 429 after at most 10), and a person who mistyped a few times gets a try back
	// every few seconds (12 s by default) instead of after a whole minute.
	burst := (perEmail + 1) / 2
	// An address may stand for a whole office behind one NAT, so its budget is a floor (DESIGN:
	// not before 50): the whole of it is there at once, and it refills within the minute.
	return &loginThrottle{
		emails:    throttle.New(burst, time.Minute/time.Duration(perEmail-burst)),
		addresses: throttle.New(perAddress, time.Minute/time.Duration(perAddress)),
	}
}

// loginAttempt is a login the throttle let through; end it with its outcome.
type loginAttempt struct {
	t           *loginThrottle
	email, addr string
}

func (t *loginThrottle) begin(email string, client netip.Addr, now time.Time) (loginAttempt, error) {
	addr := addressKey(client)
	wait, ok := t.addresses.Begin(addr, now)
	if !ok {
		return loginAttempt{}, ErrLoginThrottled.WithRetryAfter(wait)
	}
	if wait, ok = t.emails.Begin(email, now); !ok {
		t.addresses.End(addr, now, false)
		return loginAttempt{}, ErrLoginThrottled.WithRetryAfter(wait)
	}
	return loginAttempt{t: t, email: email, addr: addr}, nil
}

// end records the outcome. A success clears the email's failures but not the address's, or
// an attacker with one account of their own could clear their address between guesses.
func (a loginAttempt) end(now time.Time, failed, succeeded bool) {
	a.t.addresses.End(a.addr, now, failed)
	a.t.emails.End(a.email, now, failed)
	if succeeded {
		a.t.emails.Reset(a.email)
	}
}

// addressKey is the throttle's key for a client: an IPv4 address, or an IPv6 address's /64,
// since one subscriber usually holds a whole /64 and could rotate through it.
func addressKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
