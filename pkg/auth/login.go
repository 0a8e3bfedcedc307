package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/password"
	"github.com/switchboard/switchboard/pkg/throttle"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// LoginRequest is what a client presents to log in.
type LoginRequest struct {
	Email, Password string
	// WorkspaceID names the account when the email is a member of several workspaces.
	WorkspaceID *uuid.UUID
	// Client is the client's address, for the per-address throttle.
	Client netip.Addr
}

// ErrLoginThrottled answers a login past its email's or its address's failure budget.
var ErrLoginThrottled = errkind.New(errkind.KindRateLimited, "rate_limited", "Too many failed logins for this email or from this address; retry after the time in Retry-After.")

// loginHashes is how many password hashes every login costs, whatever its outcome, and so
// how many accounts a login without workspace_id tries. Emails are unique per workspace, so
// any workspace can add an address that exists elsewhere; an answer or a duration that
// depended on the other accounts would tell it that they exist, or whether a guess is their
// password (an earlier version answered 422 when a guess matched two accounts: a free,
// unthrottled oracle for another workspace's owner's password).
const loginHashes = 2

// Login checks email and password and starts a session.
//
// Failed logins are throttled per email and per client address, and every password check,
// an unknown email's included, waits its turn for the hash gate: a flood of guesses gets 429
// (or 503 when the gate stays full) instead of the server's memory and CPU.
func (s *Service) Login(ctx context.Context, in LoginRequest) (Tokens, error) {
	email, ok := workspace.NormalizeEmail(in.Email)
	if !ok || in.Password == "" || utf8.RuneCountInString(in.Password) > password.MaxLength {
		return Tokens{}, ErrInvalidCredentials
	}
	attempt, err := s.throttle.begin(ctx, email, in.Client, s.now())
	if err != nil {
		return Tokens{}, err
	}
	u, tried, failed, err := s.checkPassword(ctx, email, in.Password, in.WorkspaceID)
	attempt.end(ctx, s.now(), failed)
	if failed {
		if rerr := s.recordFailure(ctx, email, tried); rerr != nil {
			return Tokens{}, rerr
		}
	}
	if err != nil {
		return Tokens{}, err
	}
	now := s.now().UTC()
	sess := Session{WorkspaceID: u.WorkspaceID, ID: uuid.Must(uuid.NewV7()), UserID: u.ID, CreatedAt: now}
	raw, rt := s.newRefresh(sess, now)
	uid := u.ID
	// The user logging in is who acts: the request had no credentials before.
	ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorUser, ID: &uid})
	rec := audit.On(audit.LoginSucceeded, "user", u.ID, audit.Changes{"session_id": {After: sess.ID.String()}})
	if err := s.store.CreateSession(ctx, sess, rt, u.PasswordHash, rec); err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	return s.tokens(sess, raw, now)
}

// recordFailure writes login.failed, with the email tried, to the log of each account the
// email names (tried). A failed login for an email no account has names no workspace, so no
// log receives it; nobody proved who they are, so the actor is anonymous.
func (s *Service) recordFailure(ctx context.Context, email string, tried []workspace.User) error {
	ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorAnonymous})
	for _, u := range tried {
		rec := audit.On(audit.LoginFailed, "user", u.ID, audit.Changes{"email": {After: email}})
		if err := s.store.RecordAudit(ctx, u.WorkspaceID, rec); err != nil {
			return fmt.Errorf("login: %w", err)
		}
	}
	return nil
}

// checkPassword finds the account the email and password (and workspace, if named) log into.
// failed reports a wrong guess, which the throttle counts; a busy gate is not one. tried are
// the accounts the email names (those a failure is recorded for).
//
// Without a workspace the accounts are tried most recently updated first, and the first that
// matches wins. A workspace that adds an address to try guesses against another workspace's
// account must set its own account's password to each guess, which makes its own account the
// newest: it logs into that one and learns nothing of the other. Every login runs exactly
// loginHashes hashes, padded with a dummy, so its duration says nothing either.
func (s *Service) checkPassword(ctx context.Context, email, plain string, ws *uuid.UUID) (workspace.User, []workspace.User, bool, error) {
	users, err := s.store.UsersByEmail(ctx, email, ws, loginHashes)
	if err != nil {
		return workspace.User{}, nil, false, fmt.Errorf("login: %w", err)
	}
	// Every candidate is checked, and the dummy pads the rest, so a login costs loginHashes
	// hashes in one turn of the gate whatever it finds; the first match wins.
	hashes := make([]string, loginHashes)
	for i := range hashes {
		hashes[i] = s.dummyHash
		if i < len(users) {
			hashes[i] = users[i].PasswordHash
		}
	}
	first, err := s.hashes.VerifyFirst(ctx, hashes, plain)
	if errors.Is(err, password.ErrBusy) {
		return workspace.User{}, nil, false, err
	}
	if err != nil {
		return workspace.User{}, nil, false, fmt.Errorf("login: %w", err)
	}
	if first < 0 || first >= len(users) { // no match (the dummy never matches)
		return workspace.User{}, users, true, ErrInvalidCredentials
	}
	return users[first], nil, false, nil
}

// ConfirmPassword checks a signed-in user's current password, which they give to change it.
// It waits for the hash gate and spends the email's failed-login budget like a login, so an
// access token someone stole cannot guess its user's password faster than logins could (and
// then lock the user out by changing it).
func (s *Service) ConfirmPassword(ctx context.Context, u workspace.User, plain string) error {
	now := s.now()
	attempt, wait, ok := s.throttle.emails.Begin(ctx, u.Email, now)
	if !ok {
		return ErrLoginThrottled.WithRetryAfter(wait)
	}
	ok, err := s.hashes.Verify(ctx, u.PasswordHash, plain)
	attempt.End(ctx, s.now(), err == nil && !ok)
	switch {
	case errors.Is(err, password.ErrBusy):
		return err
	case err != nil:
		return fmt.Errorf("confirm password: %w", err)
	case !ok:
		return workspace.ErrCurrentPasswordWrong
	}
	return nil
}

// loginThrottle holds the failed-login budgets: in Redis, shared by every API process, when
// REDIS_URL names one; otherwise each process's own (README says so).
type loginThrottle struct {
	emails, addresses throttle.Budget
}

func newLoginThrottle(shared throttle.Shared, perEmail, perAddress int) *loginThrottle {
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
		emails:    shared.Budget("login:email", burst, time.Minute/time.Duration(perEmail-burst)),
		addresses: shared.Budget("login:address", perAddress, time.Minute/time.Duration(perAddress)),
	}
}

// loginAttempt is a login the throttle let through; end it with its outcome.
type loginAttempt struct {
	email, addr throttle.Attempt
}

func (t *loginThrottle) begin(ctx context.Context, email string, client netip.Addr, now time.Time) (loginAttempt, error) {
	addr, wait, ok := t.addresses.Begin(ctx, addressKey(client), now)
	if !ok {
		return loginAttempt{}, ErrLoginThrottled.WithRetryAfter(wait)
	}
	em, wait, ok := t.emails.Begin(ctx, email, now)
	if !ok {
		addr.End(ctx, now, false)
		return loginAttempt{}, ErrLoginThrottled.WithRetryAfter(wait)
	}
	return loginAttempt{email: em, addr: addr}, nil
}

// end records the outcome. A success clears no failures: an email may be a member of several
// workspaces, and an attacker logging into an account of their own with that email (or from
// their address) between guesses would otherwise clear the budget of the account they guess.
// The budgets refill on their own (one try every 12 s by default).
func (a loginAttempt) end(ctx context.Context, now time.Time, failed bool) {
	a.addr.End(ctx, now, failed)
	a.email.End(ctx, now, failed)
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
