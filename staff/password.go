package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/crypto/argon2"

	"github.com/uprinfo/presession"
)

// The argon2id parameters of new password hashes: OWASP's Password
// Storage Cheat Sheet's first recommended configuration (19 MiB of
// memory, 2 passes, 1 lane), a 16-byte random salt and a 32-byte key. A
// hash records its own parameters (PHC string form), so raising these
// later keeps old hashes verifiable.
const (
	ArgonMemory  = 19456 // KiB
	ArgonTime    = 2     // passes
	ArgonThreads = 1     // lanes
	ArgonKeyLen  = 32    // bytes
	ArgonSaltLen = 16    // bytes
)

// MinPasswordLength is the fewest characters (runes) a password may have.
const MinPasswordLength = 12

// MaxPasswordLength bounds what is hashed (a megabyte password costs
// hashing time for nothing).
const MaxPasswordLength = 1024

// HashPassword returns the argon2id hash of pw in PHC string form:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, both base64 without
// padding.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, ArgonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("staff: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, ArgonTime, ArgonMemory, ArgonThreads, ArgonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, ArgonMemory, ArgonTime, ArgonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw is the password of hash, a PHC string
// HashPassword made (under any parameters), comparing in constant time.
// A hash it cannot read verifies nothing.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 100 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 1024 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// CheckPassword refuses a password too short or too common to keep, with
// an EINVALID error that says which (in the request's language): fewer
// than MinPasswordLength characters, more than MaxPasswordLength, or one
// of the most common passwords (zxcvbn's list of the 30,000 most
// frequent in leaked password sets), ignoring case, also when it only
// adds digits or symbols around one or repeats one.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return presession.Errorf(presession.EINVALID, "the password is not valid text").Localize("err.password_text")
	case n < MinPasswordLength:
		return presession.Errorf(presession.EINVALID, "the password has %d characters; it needs at least %d", n, MinPasswordLength).
			Localize("err.password_short", n, MinPasswordLength)
	case n > MaxPasswordLength:
		return presession.Errorf(presession.EINVALID, "the password is longer than %d characters", MaxPasswordLength).
			Localize("err.password_long", MaxPasswordLength)
	case common(pw):
		return presession.Errorf(presession.EINVALID, "this password is one of the most common passwords, which are tried first; choose another (a few unrelated words make a good one)").
			Localize("err.password_common")
	}
	return nil
}

// common reports whether pw is one of the most common passwords, in
// another case, with digits or symbols around it, or repeated.
func common(pw string) bool {
	lower := strings.ToLower(pw)
	cores := []string{lower, strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })}
	for size := 1; size <= len(lower)/2; size++ {
		if len(lower)%size == 0 && strings.Repeat(lower[:size], len(lower)/size) == lower {
			cores = append(cores, lower[:size])
		}
	}
	for _, w := range frequency.FrequencyLists["passwords"] {
		for _, c := range cores {
			if c == w {
				return true
			}
		}
	}
	return false
}
