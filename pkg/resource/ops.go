package resource

// Status is the answer of the health checks.
type Status struct {
	Status string `json:"status" example:"ok"`
} // @name Status

// ProviderWebhookAck is the short answer providers get: they only look at the status.
type ProviderWebhookAck struct {
	// Received counts the messages ingested, Duplicates those already ingested (the provider
	// retried), Receipts the messages whose delivery status moved.
	Received   int `json:"received" example:"1"`
	Duplicates int `json:"duplicates" example:"0"`
	Receipts   int `json:"receipts" example:"0"`
} // @name ProviderWebhookAck
