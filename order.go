package presession

import "time"

// Order is the speaking order of a country's approved statements: the
// playlist order. It is stored as orders/{session}/{CC}.json.
type Order struct {
	Session    string    `json:"session"`
	Country    string    `json:"country"`
	Statements []string  `json:"statements"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	UpdatedBy  string    `json:"updated_by,omitempty"` // who last changed it (SetOrder, or the approval/reopen that did)
}
