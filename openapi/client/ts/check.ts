// Compiled by `make clients-ts` (tsc --strict --noEmit) against the types openapi-typescript
// generates from openapi/openapi.json into .data/clients-ts/openapi.d.ts, which the target maps
// to the module name "switchboard-openapi". It fails to compile unless narrowing an Event on
// its `type` gives `data` exactly the resource the event is about, for every event type.
import type { components } from "switchboard-openapi";

type Event = components["schemas"]["Event"];
type Message = components["schemas"]["Message"];
type Conversation = components["schemas"]["Conversation"];
type Contact = components["schemas"]["Contact"];
type Mention = components["schemas"]["Mention"];
type ScheduledMessage = components["schemas"]["ScheduledMessage"];
type Broadcast = components["schemas"]["Broadcast"];
type WindowAlert = components["schemas"]["WindowAlert"];
type ContactMerged = components["schemas"]["ContactMerged"];

// Equals is true only for identical types: `any`, `unknown` or a loose record do not pass.
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function exactly<T extends true>(): T | undefined {
  return undefined;
}

// describe is what a subscriber writes: one branch per event type, each reading its resource.
export function describe(event: Event): string {
  const when: string = event.occurred_at;
  switch (event.type) {
    case "message.created":
    case "message.status_changed":
    case "message.updated": {
      exactly<Equals<typeof event.data, Message>>();
      const text: string = event.data.text;
      const direction: "incoming" | "outgoing" | "internal" = event.data.direction;
      // @ts-expect-error a message event's data is not a Conversation
      void event.data.last_message;
      return `${when} ${event.type} ${direction} ${event.data.id}: ${text}`;
    }
    case "conversation.opened":
    case "conversation.closed":
    case "conversation.reopened":
    case "conversation.assigned":
    case "conversation.unassigned":
    case "conversation.snoozed":
    case "conversation.woke":
    case "conversation.labels_changed":
    case "conversation.team_changed": {
      exactly<Equals<typeof event.data, Conversation>>();
      const contact: string = event.data.contact.id;
      // @ts-expect-error a conversation event's data is not a Message
      void event.data.direction;
      return `${when} ${event.type} ${event.data.id} (${event.data.status}) with ${contact}`;
    }
    case "contact.created":
    case "contact.updated": {
      exactly<Equals<typeof event.data, Contact>>();
      const email: string | null = event.data.email;
      // @ts-expect-error a contact event's data is not a Conversation
      void event.data.closing_note;
      return `${when} ${event.type} ${event.data.id} ${email ?? ""}`;
    }
    case "contact.merged": {
      exactly<Equals<typeof event.data, ContactMerged>>();
      const survivor: string = event.data.survivor_id;
      // @ts-expect-error a merge event's data is not a Contact
      void event.data.email;
      return `${when} ${event.type} ${event.data.merged_id} into ${survivor}`;
    }
    case "note.created":
    case "note.updated":
    case "note.deleted": {
      exactly<Equals<typeof event.data, Message>>();
      const mentions: string[] | null = event.data.mentions;
      // @ts-expect-error a note event's data is not a Conversation
      void event.data.last_message;
      return `${when} ${event.type} ${event.data.id}: ${event.data.text} (${(mentions ?? []).length} mentions)`;
    }
    case "mention.created": {
      exactly<Equals<typeof event.data, Mention>>();
      const user: string = event.data.user_id;
      // @ts-expect-error a mention event's data is not a Message
      void event.data.text;
      return `${when} ${event.type} ${user} in ${event.data.conversation_id} by note ${event.data.note_id}`;
    }
    case "scheduled_message.sent":
    case "scheduled_message.blocked":
    case "scheduled_message.failed":
    case "scheduled_message.cancelled": {
      exactly<Equals<typeof event.data, ScheduledMessage>>();
      const sent: string | null = event.data.message_id;
      // @ts-expect-error a scheduled message event's data is not a Message
      void event.data.direction;
      return `${when} ${event.type} ${event.data.id} at ${event.data.send_at}: ${event.data.status} ${sent ?? event.data.reason ?? ""}`;
    }
    case "broadcast.completed": {
      exactly<Equals<typeof event.data, Broadcast>>();
      const pending: number = event.data.counts.pending;
      // @ts-expect-error a broadcast event's data is not a Message
      void event.data.direction;
      return `${when} ${event.type} ${event.data.id} ${event.data.name}: ${event.data.counts.sent} sent, ${pending} pending`;
    }
    case "window.expiring":
    case "window.closed": {
      exactly<Equals<typeof event.data, WindowAlert>>();
      const window: "messaging" | "human_agent_tag" = event.data.window;
      const decision: "allowed" | "template_required" | "tag_required" | "blocked" = event.data.reply_window.decision;
      // @ts-expect-error a window event's data is not a Conversation
      void event.data.last_message;
      return `${when} ${event.type} ${window} window of ${event.data.conversation_id} closes ${event.data.expires_at} (${decision})`;
    }
    default: {
      // Every event type is handled above: a new one must say what its data is.
      const unhandled: never = event;
      return unhandled;
    }
  }
}

// A request body with one shape per case (cmd/specgen's requestUnions) takes, per case, that
// case's members and no other's: the assignments below compile, the marked ones must not.
type SendMessageRequest = components["schemas"]["SendMessageRequest"];
type InboundMessageRequest = components["schemas"]["InboundMessageRequest"];
type TemplateButtonRequest = components["schemas"]["TemplateButtonRequest"];
type CreateChannelRequest = components["schemas"]["CreateChannelRequest"];

export const sends: SendMessageRequest[] = [
  { type: "text", text: "Following up on your refund.", tag: "HUMAN_AGENT" },
  { type: "template", template: { name: "order_update", language: "en_US", variables: ["Maria"] } },
  { type: "attachment", attachments: [{ url: "https://example.com/invoice.pdf", mime_type: "application/pdf" }], text: "Your invoice" },
];
// @ts-expect-error a text message has text
export const textless: SendMessageRequest = { type: "text" };
// @ts-expect-error a template message takes no text: it is rendered from the template
export const templateText: SendMessageRequest = { type: "template", template: { name: "t", language: "en" }, text: "Hi" };

export const inbound: InboundMessageRequest[] = [
  { identifier: "+1 202 555 0123", text: "Hi, my order hasn't arrived yet" },
  { identifier: "+1 202 555 0123", attachments: [{ url: "https://example.com/photo.jpg", mime_type: "image/jpeg" }] },
];
// @ts-expect-error a customer's message is a text or an attachment
export const nothing: InboundMessageRequest = { identifier: "+1 202 555 0123" };

export const buttons: TemplateButtonRequest[] = [
  { type: "quick_reply", text: "Yes" },
  { type: "url", text: "Track", value: "https://example.com/track" },
  { type: "phone_number", text: "Call us", value: "+12025550100" },
];
// @ts-expect-error a url button has its URL
export const nowhere: TemplateButtonRequest = { type: "url", text: "Track" };

export const channels: CreateChannelRequest[] = [
  { type: "email", name: "Support" },
  { type: "whatsapp", name: "WhatsApp", provider: "whatsapp_cloud", config: { phone_number_id: "1065", access_token: "EAAG", app_secret: "s" } },
  { type: "sms", name: "SMS", provider: "twilio", config: { account_sid: "AC1", auth_token: "t", messaging_service_sid: "MG1" } },
  { type: "custom", name: "Bridge", rule_options: { window_hours: 24, after_window: "template_required" } },
];
// @ts-expect-error the smtp provider delivers only email channels
export const smtpSMS: CreateChannelRequest = { type: "sms", name: "SMS", provider: "smtp", config: { host: "smtp.example.com", from: "a@example.com" } };
// @ts-expect-error window_hours is an option of custom channels only
export const whatsappWindow: CreateChannelRequest = { type: "whatsapp", name: "WhatsApp", rule_options: { window_hours: 24 } };

// A channel change names the channel's type, and its provider with config (updateChannel);
// a provider switch gives the provider's whole config (setChannelProvider).
type UpdateChannelRequest = components["schemas"]["UpdateChannelRequest"];
type SetChannelProviderRequest = components["schemas"]["SetChannelProviderRequest"];

export const updates: UpdateChannelRequest[] = [
  { type: "whatsapp", name: "WhatsApp EU" },
  { type: "whatsapp", provider: "whatsapp_cloud", config: { phone_number_id: "1065", verify_token: null } },
  { type: "sms", provider: "twilio", config: { messaging_service_sid: "MG1" } },
  { type: "messenger", rule_options: { human_agent_tag: null } },
];
// @ts-expect-error a change names the channel's type
export const untyped: UpdateChannelRequest = { name: "WhatsApp EU" };
// @ts-expect-error config is named with its provider (checked on the shape: TypeScript lets a
// union's object literal carry a member of a sibling shape, here UpdateSMSTwilioChannelRequest's)
export const providerless: components["schemas"]["UpdateSMSChannelRequest"] = { type: "sms", config: { account_sid: "AC2" } };
// @ts-expect-error a required setting can be changed, not cleared
export const clearedSID: UpdateChannelRequest = { type: "sms", provider: "twilio", config: { account_sid: null } };
// @ts-expect-error window_hours is an option of custom channels only
export const smsWindow: UpdateChannelRequest = { type: "sms", rule_options: { window_hours: 24 } };

export const switches: SetChannelProviderRequest[] = [
  { type: "sms", provider: "twilio", config: { account_sid: "AC1", auth_token: "t", from: "+12025550100" } },
  { type: "sms", provider: "sandbox" },
];
// @ts-expect-error a switch gives the provider's whole config
export const partial: SetChannelProviderRequest = { type: "sms", provider: "twilio", config: { account_sid: "AC1" } };
// @ts-expect-error the telegram provider delivers only telegram channels
export const telegramSMS: SetChannelProviderRequest = { type: "sms", provider: "telegram", config: { bot_token: "t", secret_token: "s" } };
