package layout

import (
	"strings"
	"time"
)

// Audits is the prefix of the audit trail's entries:
//
//	audit/{yyyy}/{mm}/{dd}/{yyyymmddThhmmss.nnnnnnnnnZ}-{id}.json   one entry
//
// The date directories and the fixed-width UTC time at the front of the
// name make a listing of the prefix (in key order, as S3 lists and the
// directory store walks) chronological.
const Audits = "audit/"

// auditTime is the fixed-width UTC time at the front of an entry's name.
const auditTime = "20060102T150405.000000000Z"

// Audit is the key of the audit entry id recorded at at.
func Audit(at time.Time, id string) string {
	at = at.UTC()
	return Audits + at.Format("2006/01/02/") + at.Format(auditTime) + "-" + id + ".json"
}

// ParseAudit returns the time and id of an Audit key.
func ParseAudit(key string) (at time.Time, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, Audits)
	if !ok || len(rest) < len("2006/01/02/") {
		return time.Time{}, "", false
	}
	day, name := rest[:len("2006/01/02/")], rest[len("2006/01/02/"):]
	name, ok = strings.CutSuffix(name, ".json")
	if !ok || len(name) < len(auditTime)+2 || name[len(auditTime)] != '-' {
		return time.Time{}, "", false
	}
	at, err := time.Parse(auditTime, name[:len(auditTime)])
	if err != nil || at.Format("2006/01/02/") != day {
		return time.Time{}, "", false
	}
	id = name[len(auditTime)+1:]
	if id == "" || strings.Contains(id, "/") {
		return time.Time{}, "", false
	}
	return at, id, true
}
