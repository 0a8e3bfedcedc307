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
    case "message.status_changed": {
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
    case "conversation.unassigned": {
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
    default: {
      // Every event type is handled above: a new one must say what its data is.
      const unhandled: never = event;
      return unhandled;
    }
  }
}
