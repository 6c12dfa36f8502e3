package i18n

import (
	"fmt"

	"github.com/uprinfo/presession"
)

// Reason returns a reason the service writes for a person (why a source
// is refused, why an upload or a statement failed): its English text,
// format with args, and the catalogue message that says it in the
// reader's language (Bundle.Message renders it). format is key's English
// message, word for word; args are already written out ("0:24", "7"), so
// they read the same in every language.
func Reason(key, format string, args ...string) (string, presession.Message) {
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	return fmt.Sprintf(format, a...), presession.Message{Key: key, Args: args}
}
