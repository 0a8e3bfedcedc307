// Package rules answers whether an agent may write to a contact now, on which channel, in what form.
//
// The channel rule table (Table) is data, served as-is by GET /v1/channel-rules, and Decide is the
// one pure function that applies it for both the eligibility endpoint and the send path. Nothing
// here does I/O or reads the clock: the caller passes now.
package rules
