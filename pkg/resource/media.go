package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/media"
)

// Media is a stored file: an upload, or what a customer sent.
type Media struct {
	ID string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4fa0"`
	// MimeType is sniffed from the file's bytes, never taken from the client.
	MimeType string `json:"mime_type" example:"image/jpeg"`
	// Size is in bytes.
	Size int64 `json:"size" minimum:"1" example:"48213"`
	// Filename is the uploader's name for the file, without a path; null when it had none.
	Filename *string `json:"filename" extensions:"x-nullable" example:"receipt.jpg"`
	// SHA256 is the hex SHA-256 of the bytes, also the download's ETag.
	SHA256    string    `json:"sha256" pattern:"^[0-9a-f]{64}$" example:"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-12-05T10:00:00Z"`
} // @name Media

// MediaURL is a URL that serves a media file without a bearer token, until it expires.
type MediaURL struct {
	URL       string    `json:"url" format:"uri" example:"https://api.example.com/v1/media/0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4fa0/content?workspace=0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f00&expires=1796479200&signature=q1Vd1c2bR0-8m3nVf9Yl2f6wJ3F0l7w2mZ0oQ8cA3xk"`
	ExpiresAt time.Time `json:"expires_at" format:"date-time" example:"2026-12-05T10:15:00Z"`
} // @name MediaURL

// ToMedia is m as the API writes it.
func ToMedia(m media.Media) Media {
	r := Media{ID: m.ID.String(), MimeType: m.MimeType, Size: m.Size, SHA256: m.SHA256, CreatedAt: m.CreatedAt}
	if m.Filename != "" {
		r.Filename = &m.Filename
	}
	return r
}
