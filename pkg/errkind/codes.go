package errkind

import "sort"

// Codes is every stable code a problem answer can carry, with what it means. The spec's
// Problem.code is this enum (cmd/specgen), so clients can switch on it exhaustively; a test
// (codes_test.go) holds the table to the source, both ways.
var Codes = map[string]string{
	// Reading the request (400).
	"bad_request":            "The request cannot be read.",
	"invalid_json":           "The body is empty, not JSON, or more than one JSON object.",
	"invalid_type":           "A body field has the wrong JSON type; detail names it.",
	"unknown_field":          "The body has a field this request does not take; detail names it.",
	"invalid_parameter":      "A query or path parameter is malformed or out of range; detail names it.",
	"invalid_query":          "The query string cannot be parsed.",
	"invalid_character":      "A value holds a character the API refuses (NUL, invalid UTF-8); errors names the fields.",
	"invalid_cursor":         "The cursor is malformed or belongs to another query.",
	"unsupported_media_type": "The body is not sent as application/json (multipart/form-data for an upload).",
	"malformed_webhook":      "A provider webhook body cannot be parsed.",
	"route_not_found":        "No route has this path.",
	"method_not_allowed":     "The path does not take this method; Allow lists those it takes.",
	"body_too_large":         "The body is over the server's limit (BODY_LIMIT).",
	"media_too_large":        "The file is over the media size limit (MEDIA_MAX_BYTES, or the channel's); detail names it.",
	"request_timeout":        "The request did not arrive in time.",
	"malformed_multipart":    "The multipart body is malformed or was cut short before the end of the file part.",
	"range_not_satisfiable":  "No range of the Range header is within the file; Content-Range gives its size.",
	// Validation and business rules (422).
	"validation_failed":          "One or more fields are invalid; errors names each with a message.",
	"search_too_short":           "q is a phone number fragment with fewer digits than search takes (4); errors names q.",
	"idempotency_key_reused":     "The Idempotency-Key was used for a different request.",
	"secrets_unavailable":        "The server has no SECRETS_KEY, so it cannot keep provider or webhook secrets.",
	"unknown_provider":           "The channel's provider is not known to this server.",
	"webhook_url_refused":        "The webhook URL is not allowed (not https, or an address the egress guard refuses).",
	"no_channel_identity":        "The contact has no identity on the channel, so there is no address to send to.",
	"messaging_window_closed":    "The channel's reply window is closed and nothing may be sent until the contact writes; decision says why.",
	"template_required":          "Outside the reply window only an approved template may be sent; decision says until when.",
	"tag_required":               "Outside the standard window only a message tag may be sent; decision names the tags.",
	"tag_not_allowed":            "The message tag is not allowed on this channel or at this time.",
	"template_not_approved":      "The template is not approved for sending.",
	"template_variables_invalid": "The template's variables are missing or invalid.",
	"quota_exceeded":             "The channel's monthly quota of business-initiated messages is spent.",
	"media_type_refused":         "Files of this type (programs, scripts) are never accepted; detail names the type sniffed from the bytes.",
	"audience_empty":             "No contact of the workspace is in the broadcast's audience (none of the ids, or nobody has the tag).",
	"audience_too_large":         "The broadcast's audience has more than 1 000 000 contacts.",
	"attachment_not_supported":   "The channel's provider cannot carry an attachment (its type, size or number, or stored media without the server's public URL); detail names the limit, errors the attachment.",
	// Credentials and rights (401, 403).
	"unauthenticated":           "No credentials, or credentials of an unknown kind.",
	"invalid_credentials":       "The email or password is wrong.",
	"invalid_token":             "The token or key is invalid, expired or revoked.",
	"refresh_token_reused":      "The refresh token was already used; the whole session is revoked.",
	"invalid_signature":         "A provider webhook's signature is missing or does not verify.",
	"url_signature_invalid":     "A signed media URL's signature does not verify, or the URL has expired.",
	"forbidden":                 "The role or the key's scopes do not allow this.",
	"scope_exceeds_creator":     "A key cannot have scopes its creator lacks.",
	"not_a_session":             "Only a user session can do this (log out); API keys are revoked instead.",
	"owner_only":                "Only an owner may do this to owners, managers or the owner role.",
	"password_change_forbidden": "Only the user themself or an owner may set a password.",
	"assignment_forbidden":      "Agents may assign a conversation only to themselves, and unassign only themselves.",
	"user_required":             "Only a user has this (read state, an inbox of their own); an API key has none.",
	"note_forbidden":            "Only a note's author, owners, managers and API keys may edit or delete it.",
	"handshake_refused":         "A provider's verification request does not match the channel's verify token.",
	// Not found (404).
	"workspace_not_found":         "The workspace does not exist.",
	"user_not_found":              "No such user in this workspace.",
	"contact_not_found":           "No such contact in this workspace.",
	"channel_not_found":           "No such channel in this workspace.",
	"conversation_not_found":      "No such conversation in this workspace.",
	"message_not_found":           "No such message in this workspace.",
	"note_not_found":              "No such note in this workspace (or the message is not a note).",
	"template_not_found":          "No such template in this workspace.",
	"api_key_not_found":           "No such API key in this workspace.",
	"webhook_not_found":           "No such webhook in this workspace, or no such provider webhook on the channel.",
	"label_not_found":             "No such label in this workspace.",
	"team_not_found":              "No such team in this workspace.",
	"canned_response_not_found":   "No such canned response in this workspace.",
	"media_not_found":             "No such media in this workspace.",
	"scheduled_message_not_found": "No such scheduled message in this workspace.",
	"broadcast_not_found":         "No such broadcast in this workspace.",
	// State conflicts (409).
	"contact_exists":                    "Another contact has this email or phone; existing_id names it.",
	"identity_exists":                   "The identifier is already a contact's identity on this channel; existing_id names the contact.",
	"template_exists":                   "A template with this name and language exists; existing_id names it.",
	"label_exists":                      "A label with this name (without regard to case) exists; existing_id names it.",
	"team_exists":                       "A team with this name (without regard to case) exists; existing_id names it.",
	"canned_shortcut_taken":             "A canned response with this shortcut (without regard to case) exists; existing_id names it.",
	"email_taken":                       "A user with this email already exists.",
	"last_owner":                        "The workspace must keep at least one owner.",
	"channel_archived":                  "The channel is archived: it keeps its history but takes no new messages or identities.",
	"channel_type_mismatch":             "The request names another type than the channel's; a channel's type never changes.",
	"provider_mismatch":                 "The request names another provider than the channel's; PUT /v1/channels/{id}/provider changes providers.",
	"conversation_closed":               "The conversation is closed.",
	"conversation_open":                 "The conversation is already open.",
	"idempotency_in_progress":           "A request with this Idempotency-Key is still in progress; retry later.",
	"scheduled_message_not_cancellable": "The scheduled message has already fired or been cancelled (its status is not scheduled).",
	"broadcast_not_cancellable":         "The broadcast is done or cancelled already (its status is not scheduled or running).",
	// Limits and availability (429, 503, 500).
	"rate_limited":         "Too many requests; Retry-After says when to try again.",
	"server_busy":          "Too many password checks are running; Retry-After says when to try again.",
	"unavailable":          "The service is unavailable for now.",
	"database_unavailable": "The database does not answer.",
	"internal_error":       "An unexpected error; request_id finds it in the server's log.",
}

// CodeNames returns the codes in Codes, sorted.
func CodeNames() []string {
	names := make([]string, 0, len(Codes))
	for code := range Codes {
		names = append(names, code)
	}
	sort.Strings(names)
	return names
}
