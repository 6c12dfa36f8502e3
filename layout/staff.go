package layout

import "strings"

// The staff directory's durable records (package staff), each a JSON
// document:
//
//	staff/members/{id}.json    a staff account (its password hash and passkeys included)
//	staff/tokens/{id}.json     an API token (the hash of its secret only)
//	staff/sessions/{hash}.json a live sign-in, named by the hash of its id
//	staff/links/{hash}.json    an unused set-password link, named by the hash of its token
const (
	StaffMembers  = "staff/members/"
	StaffTokens   = "staff/tokens/"
	StaffSessions = "staff/sessions/"
	StaffLinks    = "staff/links/"
)

// StaffMember is the key of the durable record of staff account id.
func StaffMember(id string) string { return StaffMembers + id + ".json" }

// StaffToken is the key of the durable record of API token id.
func StaffToken(id string) string { return StaffTokens + id + ".json" }

// StaffSession is the key of the durable copy of the staff session whose
// id hashes to hash.
func StaffSession(hash string) string { return StaffSessions + hash + ".json" }

// StaffLink is the key of the durable copy of the set-password link whose
// token hashes to hash.
func StaffLink(hash string) string { return StaffLinks + hash + ".json" }

// ParseStaff returns the name (id or hash) of a key made by StaffMember,
// StaffToken, StaffSession or StaffLink under family, one of their
// prefixes.
func ParseStaff(family, key string) (name string, ok bool) {
	rest, ok := strings.CutPrefix(key, family)
	if !ok {
		return "", false
	}
	name, ok = strings.CutSuffix(rest, ".json")
	return name, ok && name != "" && !strings.Contains(name, "/")
}
