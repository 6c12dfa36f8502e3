package presession

// Filter selects statements for a catalog's List. Empty fields match
// anything.
type Filter struct {
	Session      string
	Country      string
	Status       Status
	InvitationID string
	// Search keeps the statements whose organisation, title or speaker
	// holds every word of it, ignoring case and accents ("developpement"
	// finds "Développement").
	Search string
	Offset int
	Limit  int // 0: no limit
}
