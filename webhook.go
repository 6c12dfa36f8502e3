package presession

import (
	"slices"
	"time"
)

// Webhook is an endpoint of the organisers' own systems that is told the
// occurrences of the types it subscribed to, by signed HTTP POSTs (package
// webhook).
type Webhook struct {
	ID     string           `json:"id"`
	URL    string           `json:"url"`
	Events []OccurrenceType `json:"events"`
	// Secret signs the deliveries: "whsec_" and the base64 of the key
	// bytes, as the Standard Webhooks specification writes it. Shown
	// once, when the endpoint is registered; never listed.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy Actor     `json:"created_by"`
	// Disabled endpoints are told nothing more: the endpoint answered 410
	// Gone at DisabledAt.
	Disabled   bool       `json:"disabled"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	// Deliveries are the latest delivery attempts, the newest first, as
	// listed for staff; the stored record has none.
	Deliveries []WebhookDelivery `json:"deliveries,omitempty"`
}

// Wants reports whether w is told occurrences of type t.
func (w *Webhook) Wants(t OccurrenceType) bool { return !w.Disabled && slices.Contains(w.Events, t) }

// WebhookDelivery is one attempt to deliver an occurrence to a webhook.
type WebhookDelivery struct {
	Occurrence string          `json:"occurrence"` // the occurrence ID, also the webhook-id header
	Type       OccurrenceType  `json:"type"`
	Attempt    int             `json:"attempt"` // 1 for the first
	At         time.Time       `json:"at"`
	Status     int             `json:"status,omitempty"`   // the HTTP status answered; 0 when none
	Error      string          `json:"error,omitempty"`    // why there was no answer (timeout, refused address…)
	Response   string          `json:"response,omitempty"` // the start of the answer's body, at most 1 KiB
	Outcome    DeliveryOutcome `json:"outcome"`
}

// DeliveryOutcome is what became of a delivery attempt.
type DeliveryOutcome string

// Delivery outcomes: delivered (a 2xx answer); retrying (another attempt
// follows); failed (the last attempt failed, or the endpoint was removed);
// gone (the endpoint answered 410 Gone and is disabled).
const (
	OutcomeDelivered DeliveryOutcome = "delivered"
	OutcomeRetrying  DeliveryOutcome = "retrying"
	OutcomeFailed    DeliveryOutcome = "failed"
	OutcomeGone      DeliveryOutcome = "gone"
)
