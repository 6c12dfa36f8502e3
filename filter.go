package presession

// Filter selects statements for a catalog's List. Empty fields match
// anything.
type Filter struct {
	Session      string
	Country      string
	Status       Status
	InvitationID string
	Offset       int
	Limit        int // 0: no limit
}
