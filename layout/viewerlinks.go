package layout

import "strings"

// ViewerLinks is the prefix of the catalog's durable records of the
// viewer links issued to delegations.
const ViewerLinks = "viewer-links/"

// ViewerLink is the key of the catalog's durable record of viewer link id.
func ViewerLink(id string) string { return ViewerLinks + id + ".json" }

// ParseViewerLink returns the viewer link id of a ViewerLink key.
func ParseViewerLink(key string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(key, ViewerLinks)
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(rest, ".json")
	return id, ok && id != "" && !strings.Contains(id, "/")
}
