package mail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Outbox writes each message as an .eml file into a directory instead of
// sending it: what a first run on the embedded default would have sent.
// The same message (same ID) overwrites its file.
type Outbox struct {
	Dir  string
	From string
}

// Send writes m to Dir/<ID>.eml (written to a temporary file first, so a
// reader never sees half a message).
func (o *Outbox) Send(_ context.Context, m Message) error {
	msg, err := build(o.From, m)
	if err != nil {
		return &PermanentError{Answer: err.Error()}
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	name := fileName(m.ID)
	f, err := os.CreateTemp(o.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	if _, err := msg.WriteTo(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("mail: outbox: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("mail: outbox: write %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), filepath.Join(o.Dir, name)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("mail: outbox: %w", err)
	}
	return nil
}

// fileName makes a safe file name of a message ID.
func fileName(id string) string {
	if id == "" {
		id = "message"
	}
	return strings.TrimLeft(safeID(id), ".") + ".eml"
}

// safeID keeps the letters, digits, '-', '_' and '.' of id and turns the
// rest into '_': fit for a file name and a Message-ID's left part.
func safeID(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, id)
}
