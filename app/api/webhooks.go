package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/webhooks"
	"github.com/vegasec/vega/store"
)

// Webhooks hang off their project for creating and listing, and are
// addressed by their own ID afterwards, as repositories are
// (docs/webhooks.md).
func (h webhooksAPI) routes() []Route {
	return []Route{
		Route{"GET", "/projects/:id/webhooks", pageByID(webhookScope, h.svc.List), Op{Summary: "List a project's webhooks (never their secrets; owner or root)", Response: List[store.Webhook]{}, Paged: true}},
		Route{"POST", "/projects/:id/webhooks", noStore(withBody(h.create)), Op{Summary: "Register a webhook on a project; its signing secret is in this response only", Request: webhooks.Input{}, Response: webhooks.Created{}, Status: 201}},
		Route{"GET", "/webhooks/:id", byID(webhookScope, h.svc.Get), Op{Summary: "Get a webhook", Response: store.Webhook{}}},
		Route{"DELETE", "/webhooks/:id", deleteByID(webhookScope, h.svc.Delete), Op{Summary: "Delete a webhook, its pending deliveries and its delivery log", Status: 204}},
		Route{"POST", "/webhooks/:id/test", byID(webhookScope, h.svc.SendTest), Op{Summary: "Queue a webhook.test event to the webhook (delivered like any event)", Response: store.WebhookDelivery{}, Status: 202}},
		Route{"GET", "/webhooks/:id/deliveries", pageByID(webhookScope, h.svc.Deliveries), Op{Summary: "A webhook's delivery log, newest first: status, payload and every attempt's time, duration and response code", Response: List[store.WebhookDelivery]{}, Paged: true}},
	}
}

// outgoingWebhooks are the events Vega POSTs to a project's webhooks, all
// with the body webhooks.Event.
var outgoingWebhooks = []outgoingWebhook{
	{store.WebhookScanCompleted, "A scan of the project completed", webhooks.Event{}},
	{store.WebhookScanFailed, "A scan of the project failed", webhooks.Event{}},
	{store.WebhookFindingNew, "A completed scan found findings new to their repository at or above the webhook's min_severity", webhooks.Event{}},
	{store.WebhookTest, "Sent by POST /v1/webhooks/{id}/test", webhooks.Event{}},
}

// outgoingWebhook is a request Vega sends (OpenAPI 3.1 "webhooks").
type outgoingWebhook struct {
	Name, Summary string
	Body          any
}

// webhookScope is the caller's scope, widened for root: webhooks are
// managed by the project's owner or by root.
func webhookScope(c *fiber.Ctx) store.Scope {
	if Principal(c).User.HasGroup(store.GroupRoot) {
		return store.System()
	}
	return Scope(c)
}

type webhooksAPI struct{ svc *webhooks.Service }

func (h webhooksAPI) create(c *fiber.Ctx, in webhooks.Input) (*webhooks.Created, error) {
	return h.svc.Create(c.UserContext(), webhookScope(c), c.Params("id"), in)
}
