package conversation

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/provider"
)

// errNoSuchMedia is the message of a media id that names no media of the workspace (another
// workspace's included: media ids are not told apart from made-up ones).
const errNoSuchMedia = "no such media in this workspace"

// mediaIDs are the media ids of a message's attachments, for the store to read with the
// message's other state; nil when there are none.
func mediaIDs(atts []Attachment) []uuid.UUID {
	var ids []uuid.UUID
	for _, a := range atts {
		if a.MediaID != nil {
			ids = append(ids, *a.MediaID)
		}
	}
	return ids
}

// resolveAttachments fills in the attachments of stored media from the workspace's media
// the store found: the type sniffed from the bytes, the size, the file name (the request's,
// else the media's), ready. An id not found is a validation error on its attachment.
func resolveAttachments(atts []Attachment, found map[uuid.UUID]media.Media) ([]Attachment, error) {
	var errs errkind.Fields
	out := make([]Attachment, len(atts))
	for i, a := range atts {
		if a.MediaID != nil {
			m, ok := found[*a.MediaID]
			if !ok {
				errs.Add(fmt.Sprintf("attachments[%d].media_id", i), errNoSuchMedia)
			}
			a.MimeType, a.Size, a.Status = m.MimeType, m.Size, AttachmentReady
			if a.Filename == "" {
				a.Filename = m.Filename
			}
		}
		out[i] = a
	}
	return out, errs.Err()
}

// ErrAttachmentNotSupported refuses attachments the channel's provider cannot carry; its
// detail names the limit and its field the first attachment over it.
var ErrAttachmentNotSupported = errkind.New(errkind.KindInvalid, "attachment_not_supported",
	"The channel's provider cannot carry the attachment.")

// checkMediaLimits checks a message's attachments against what the channel's provider
// carries. publicURL says whether the server has a public URL providers can fetch stored
// media from.
func checkMediaLimits(ch channel.Channel, atts []Attachment, text string, publicURL bool) error {
	files := make([]provider.File, len(atts))
	for i, a := range atts {
		files[i] = provider.File{MIMEType: a.MimeType, Size: a.Size, Stored: a.MediaID != nil}
	}
	r := channel.MediaLimits(ch).Check(files, text, publicURL)
	if r == nil {
		return nil
	}
	field := fmt.Sprintf("attachments[%d]", r.Index)
	if r.Caption {
		field = "text"
	}
	e := ErrAttachmentNotSupported.Detailf("%s", r.Detail)
	e.Fields = []errkind.Field{{Field: field, Message: r.Detail}}
	return e
}
