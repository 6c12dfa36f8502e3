package review

import (
	"context"
	"strings"
	"time"

	"github.com/uprinfo/presession"
)

// WebhooksView is the dashboard's webhooks section.
type WebhooksView struct {
	Events    []EventView
	Endpoints []WebhookView
}

// EventView is an event staff can subscribe an endpoint to.
type EventView struct {
	Type presession.OccurrenceType
	ID   string // for element ids: the type with "_" for "."
	Text string // what it tells, in the page's language
}

// WebhookView is a registered endpoint with its last deliveries.
type WebhookView struct {
	presession.Webhook
	Deliveries []HookDeliveryView
}

// DisabledOn is when the endpoint was disabled (zero when it is not).
func (w WebhookView) DisabledOn() time.Time {
	if w.DisabledAt == nil {
		return time.Time{}
	}
	return *w.DisabledAt
}

// HookDeliveryView is one delivery attempt to a webhook.
type HookDeliveryView struct {
	presession.WebhookDelivery
	Result string // the outcome, in the page's language
	Detail string // HTTP status, or why there was no answer
}

// webhookMessages are the keys webhooks.js uses.
var webhookMessages = []string{
	"staff.webhooks.js.url_required", "staff.webhooks.js.events_required", "staff.webhooks.js.registered",
	"staff.webhooks.js.confirm_remove", "staff.webhooks.js.removed",
}

// webhookSection fills in the webhooks section, when there is one.
func (h *Handler) webhookSection(ctx context.Context, d *Dashboard, lang string) error {
	if h.webhooks == nil {
		return nil
	}
	for _, k := range webhookMessages {
		d.Messages[k] = h.site.Bundle.T(lang, k)
	}
	list, err := h.webhooks.List(ctx)
	if err != nil {
		return err
	}
	v := &WebhooksView{}
	for _, t := range presession.OccurrenceTypes {
		id := strings.ReplaceAll(string(t), ".", "_")
		v.Events = append(v.Events, EventView{Type: t, ID: id, Text: h.site.Bundle.T(lang, "staff.webhooks.event."+id)})
	}
	for _, w := range list {
		wv := WebhookView{Webhook: w}
		for _, dl := range w.Deliveries {
			dv := HookDeliveryView{WebhookDelivery: dl, Result: h.site.Bundle.T(lang, "staff.webhooks.outcome."+string(dl.Outcome)), Detail: dl.Error}
			if dl.Status != 0 {
				dv.Detail = h.site.Bundle.T(lang, "staff.webhooks.http", dl.Status)
			}
			wv.Deliveries = append(wv.Deliveries, dv)
		}
		v.Endpoints = append(v.Endpoints, wv)
	}
	d.Webhooks = v
	return nil
}
