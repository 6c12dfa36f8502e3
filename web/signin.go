package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// Directory is what the staff sign-in and Principal need of the staff
// directory (package staff's Directory implements it): sessions, API
// tokens and password checks. Every node asks the same store, so ending a
// session or revoking a token holds everywhere at once.
type Directory interface {
	// SessionIdentity returns who the session id (the staff cookie's
	// value) is: ENOTFOUND when it is not live.
	SessionIdentity(ctx context.Context, sessionID string) (presession.Identity, error)
	// TokenIdentity returns the identity of an API token; isToken is
	// false when tok is not of the API token form.
	TokenIdentity(ctx context.Context, tok string) (id presession.Identity, isToken bool, err error)
	// StartSession begins a session of id from remote and returns its id.
	StartSession(ctx context.Context, id presession.Identity, remote string) (string, error)
	// EndSession ends the session id on every node.
	EndSession(ctx context.Context, sessionID string) error
	// Authenticate returns the member whose address and password these
	// are: EUNAUTHORIZED, the same whatever is wrong.
	Authenticate(ctx context.Context, email, password string) (*presession.Member, error)
}

// SecondFactor finishes the password sign-in of member m, who has
// passkeys, once the password verified: it answers r itself (the passkey
// step), and starts the session (Auth.StartStaffSession) only once the
// passkey verifies. An error it returns is answered as a refused sign-in
// (nothing must have been written then).
type SecondFactor func(w http.ResponseWriter, r *http.Request, m *presession.Member) error

// The password sign-in's allowance of failures per account, on top of
// the per-address one (SignInMaxFailures): higher, so that an address
// throttled for guessing does not lock the account's owner out, and low
// enough that guesses spread over many addresses stay few.
const SignInAccountMaxFailures = 10

// accountKey is what an account is counted as by AccountSignIns: a hash
// of the address typed (known or not, so the count tells nothing).
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "account:" + hex.EncodeToString(sum[:16])
}

// TooManyAccountAttempts is the refusal of a password sign-in to an
// account that failed too often, until until.
func TooManyAccountAttempts(until time.Time) error {
	if t := until.Truncate(time.Minute); t.Before(until) {
		until = t.Add(time.Minute)
	}
	until = until.UTC()
	return presession.Errorf(presession.ETOOMANY, "too many failed sign-ins to this account; try again after %s",
		until.Format("15:04 UTC")).Localize("auth.signin_account_throttled", until)
}

// SignInPassword signs the browser of r in as the member whose e-mail
// address and password these are. It returns the member, and answered
// true when SecondFactor took the request over (the member has passkeys:
// the session starts once the passkey verifies). A wrong address or
// password is EUNAUTHORIZED, counted against the client address and the
// account: past SignInMaxFailures from an address within SignInWindow,
// or SignInAccountMaxFailures to an account, every attempt is ETOOMANY
// until the window ends, the right password too; a throttled attempt is
// not checked, so it does not count against the account. A success
// forgets the account's failures (not the address's, so that signing in
// to one's own account does not buy more guesses at others').
func (a *Auth) SignInPassword(w http.ResponseWriter, r *http.Request, email, password string) (m *presession.Member, answered bool, err error) {
	ctx := r.Context()
	if a.Directory == nil {
		return nil, false, presession.Errorf(presession.EUNAUTHORIZED, "staff accounts are not available here; sign in with the staff token").Localize("auth.no_accounts")
	}
	addr, account := throttleKey(a.ClientAddr(r)), accountKey(email)
	if a.SignIns != nil {
		wait, err := a.SignIns.Wait(ctx, addr)
		if err != nil {
			return nil, false, err
		}
		if wait > 0 {
			return nil, false, TooManyAttempts(a.now().Add(wait))
		}
	}
	if a.AccountSignIns != nil {
		wait, err := a.AccountSignIns.Wait(ctx, account)
		if err != nil {
			return nil, false, err
		}
		if wait > 0 {
			return nil, false, TooManyAccountAttempts(a.now().Add(wait))
		}
	}
	m, err = a.Directory.Authenticate(ctx, email, password)
	if presession.ErrorCode(err) == presession.EUNAUTHORIZED {
		for _, t := range []struct {
			th  *Throttle
			key string
		}{{a.SignIns, addr}, {a.AccountSignIns, account}} {
			if t.th != nil {
				if ferr := t.th.Fail(ctx, t.key); ferr != nil {
					return nil, false, ferr
				}
			}
		}
		return nil, false, err
	}
	if err != nil {
		return nil, false, err
	}
	if a.AccountSignIns != nil {
		if err := a.AccountSignIns.Reset(ctx, account); err != nil {
			return m, false, err
		}
	}
	if len(m.Passkeys) > 0 {
		if a.SecondFactor == nil {
			return m, false, presession.Errorf(presession.EUNAUTHORIZED, "this account signs in with its passkey as well; use the passkey").Localize("auth.passkey_required")
		}
		if err := a.SecondFactor(w, r, m); err != nil {
			return m, false, err
		}
		return m, true, nil
	}
	return m, false, a.StartStaffSession(w, r, m.Identity())
}

// StartStaffSession starts a staff session of id (the service or a
// member) for the browser of r and sets the cookie that names it:
// HttpOnly, SameSite=Strict, for StaffSessionTTL at most (the directory
// ends it earlier when it goes idle).
func (a *Auth) StartStaffSession(w http.ResponseWriter, r *http.Request, id presession.Identity) error {
	if a.Directory == nil {
		return errNoDirectory
	}
	sid, err := a.Directory.StartSession(r.Context(), id, a.ClientAddr(r).String())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: StaffCookie, Value: sid, Path: "/", HttpOnly: true, Secure: a.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(StaffSessionTTL / time.Second)})
	return nil
}

// StaffSessionTTL is the staff cookie's Max-Age: the sessions' absolute
// lifetime (staff.DefaultSessionMax).
const StaffSessionTTL = 12 * time.Hour

var errNoDirectory = presession.Errorf(presession.EINTERNAL, "staff sign-in: no staff directory")

// ActorAnonymous is the actor the audit records for a sign-in attempt
// that names no account (a wrong address or password).
const ActorAnonymous presession.Actor = "anonymous"

// AuditAuth records a sign-in, sign-out or other attempt at action
// (e.g. "signin", "signout") by id (the zero Identity when the attempt
// names nobody known: ActorAnonymous), on target (the address typed, or
// "service" for the staff token), with detail (how: "password",
// "staff token", "passkey") and the outcome err gives ("ok" for nil, else
// its code). Without an Auditor it does nothing; a failure to record is
// logged.
func (s *Site) AuditAuth(r *http.Request, action string, id presession.Identity, target, detail string, err error) {
	if s.Audit == nil {
		return
	}
	actor, name := id.Actor(), id.Name
	if id.Kind == "" {
		actor, name = ActorAnonymous, ""
	}
	result := "ok"
	if err != nil {
		result = presession.ErrorCode(err)
	}
	if len(target) > 200 {
		target = strings.ToValidUTF8(target[:200], "")
	}
	e := presession.AuditEntry{ID: token.NewID(), At: time.Now().UTC(), Actor: actor, ActorName: name,
		Action: action, Target: target, Detail: detail, Remote: s.Auth.ClientAddr(r).String(), Outcome: result}
	ctx := context.WithoutCancel(r.Context())
	if rerr := s.Audit.Record(ctx, e); rerr != nil {
		s.Log.ErrorContext(ctx, "audit: not recorded", "action", action, "actor", e.Actor, "err", rerr)
	}
}
