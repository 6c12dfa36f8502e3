package presession

import (
	"errors"
	"fmt"
	"time"
)

// The value types of stored objects, here so that storage (which provides
// them) and the packages that declare the storage methods they call both
// see them without importing each other.

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64 // the whole object's size
	ContentType  string
	ETag         string // opaque; changes when the object is replaced
	CacheControl string
	ModTime      time.Time
}

// PutOptions are the metadata stored with an object.
type PutOptions struct {
	ContentType  string // empty: inferred from the key's extension
	CacheControl string // empty: none
}

// ErrInvalidRange is matched by the error for a Range that cannot be
// satisfied (it starts at or past the end of the object).
var ErrInvalidRange = errors.New("storage: invalid range")

// Range selects bytes of an object with HTTP Range semantics: Start and End
// are inclusive offsets, End < 0 means "to the end", and Start < 0 (with
// End < 0) selects the last -Start bytes. An End past the object is clamped.
type Range struct {
	Start, End int64
}

// Resolve returns the offset and length that r selects in an object of the
// given size, or an error matching ErrInvalidRange.
func (r Range) Resolve(size int64) (offset, length int64, err error) {
	switch {
	case r.Start < 0 && r.End < 0:
		n := min(-r.Start, size)
		if n == 0 {
			break
		}
		return size - n, n, nil
	case r.Start >= 0 && (r.End < 0 || r.End >= r.Start):
		if r.Start >= size {
			break
		}
		end := size - 1
		if r.End >= 0 && r.End < end {
			end = r.End
		}
		return r.Start, end - r.Start + 1, nil
	}
	return 0, 0, fmt.Errorf("%w: %s of %d bytes", ErrInvalidRange, r, size)
}

// String formats r as the value of an HTTP Range header.
func (r Range) String() string {
	switch {
	case r.Start < 0:
		return fmt.Sprintf("bytes=%d", r.Start)
	case r.End < 0:
		return fmt.Sprintf("bytes=%d-", r.Start)
	}
	return fmt.Sprintf("bytes=%d-%d", r.Start, r.End)
}

// Valid reports whether r is well-formed, whatever the object's size.
func (r Range) Valid() bool {
	return (r.Start < 0 && r.End < 0) || (r.Start >= 0 && (r.End < 0 || r.End >= r.Start))
}
