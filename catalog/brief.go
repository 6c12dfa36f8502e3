package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/uprinfo/presession"
)

// A statement's record is mostly its media: four rungs of a 6 s segment
// each (some 15 KiB of JSON for ten minutes), then its captions and
// history. Lists that only name, count or filter statements read the
// record's other fields, which come first, and stop there: decodeBrief.

// heavyFields are the parts of a record a brief statement leaves out.
var heavyFields = []string{"media", "captions", "history"}

// keyIndex is the index in presession.Statement of each top-level key of
// a record; briefFields those of the fields a brief statement keeps,
// briefEnd the index after the last of them, and required how many of
// them json.Marshal always writes (those without omitempty or omitzero).
var keyIndex, briefFields, briefEnd, required = recordLayout(reflect.TypeFor[presession.Statement]())

// briefField is a field a brief statement keeps: its index, and whether
// json.Marshal always writes it.
type briefField struct {
	index  int
	always bool
}

func recordLayout(t reflect.Type) (all map[string]int, brief map[string]briefField, end, required int) {
	all, brief = map[string]int{}, map[string]briefField{}
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		all[name] = i
		if !slices.Contains(heavyFields, name) {
			always := !strings.Contains(opts, "omit")
			brief[name] = briefField{i, always}
			end = i + 1
			if always {
				required++
			}
		}
	}
	return all, brief, end, required
}

// decodeBrief decodes a statement record without its media, captions and
// history. Records are written by json.Marshal of presession.Statement,
// whose keys come in the struct's order, so at the first key past the
// fields it keeps it stops: the segments are never scanned. A record that
// does not look written so (keys out of order, or one that Marshal always
// writes missing by then) is decoded in full instead.
func decodeBrief(raw []byte) (*presession.Statement, error) {
	var s presession.Statement
	v := reflect.ValueOf(&s).Elem()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	last, seen := -1, 0
	inOrder := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		i, known := keyIndex[key]
		if known {
			inOrder = inOrder && i > last
			last = i
			if i >= briefEnd {
				if inOrder && seen == required {
					return &s, nil
				}
				return decodeStripped(raw)
			}
		}
		if f, ok := briefFields[key]; ok {
			err = dec.Decode(v.Field(f.index).Addr().Interface())
			if f.always {
				seen++
			}
		} else {
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", key, err)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fmt.Errorf("the record ends early (%v)", err)
	}
	return &s, nil
}

// decodeStripped decodes raw in full, then drops what a brief statement
// leaves out.
func decodeStripped(raw []byte) (*presession.Statement, error) {
	s, err := decode(raw)
	if err != nil {
		return nil, err
	}
	s.Media, s.Captions, s.History = nil, nil, nil
	return s, nil
}
