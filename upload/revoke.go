package upload

import (
	"net/http"

	"github.com/uprinfo/presession"
)

// ErrCodeRevoked is the tus error code of a request under an invitation
// staff revoked. The upload page stops at it: no retry can change it.
const ErrCodeRevoked = "ERR_INVITATION_REVOKED"

// refuseInvitation is the tus refusal of a request whose invitation
// token does not stand: 403 when staff revoked it (the statements it
// uploaded stay; one in progress stops here and, unfinished, is removed
// by the sweep after AbandonedUploadAge like any abandoned upload), 401
// for a token that is not valid, and a 500, logged, when whether it was
// revoked cannot be told (Redis): clients retry it.
func refuseInvitation(err error) error {
	switch presession.ErrorCode(err) {
	case presession.EFORBIDDEN:
		return tusError(ErrCodeRevoked, http.StatusForbidden, "upload.tus.message", "%s", presession.ErrorMessage(err)).as(err)
	case presession.EUNAUTHORIZED:
		return tusError(ErrCodeUnauthorized, http.StatusUnauthorized, "upload.tus.message", "%s", presession.ErrorMessage(err)).as(err)
	}
	return err // sendError logs it and answers 500
}
