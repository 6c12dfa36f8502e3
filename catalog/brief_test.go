package catalog

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

// TestDecodeBrief: a brief statement is the record without its media,
// captions and history, every other field kept; read in the order
// json.Marshal writes, or in another.
func TestDecodeBrief(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
	full := &presession.Statement{ID: "s1", Session: "upr36", Country: "HR", Organisation: "Kuća ljudskih prava", InvitationID: "inv1",
		Title: "Prava \"manjina\"", Speaker: "Đurđa", Language: "hr", Filename: "a.mp4", Filetype: "video/mp4", Size: 42, SourceKey: "uploads/x",
		SourceDeletedAt: at, Status: presession.StatusFailed, Reason: "why", ReasonKey: "reason.cut", ReasonArgs: []string{"0:24", "1:00"},
		Warnings: []string{"no audio"}, Progress: 12.5, CreatedAt: at, UploadedAt: at.Add(time.Second), UpdatedAt: at.Add(time.Minute),
		Media:    &presession.Media{Duration: 60, Renditions: []presession.Rendition{{Name: "720p", Segments: []presession.Segment{{Key: "k", Duration: 6}}}}},
		Captions: []presession.Caption{{Language: "en", Key: "c"}},
		History:  []presession.Event{{At: at, Actor: "worker", To: presession.StatusFailed}}}
	want := *full
	want.Media, want.Captions, want.History = nil, nil, nil
	// Every field but the heavy ones is set, so none is forgotten.
	v := reflect.ValueOf(want)
	for i := range v.NumField() {
		if name := v.Type().Field(i).Name; v.Field(i).IsZero() && name != "Media" && name != "Captions" && name != "History" {
			t.Fatalf("the fixture leaves %s unset", name)
		}
	}
	raw, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBrief(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("brief\n%+v\nwant\n%+v", *got, want)
	}
	// Another order: the heavy fields first, an unknown one between.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	other := []byte(`{"history":` + string(m["history"]) + `,"media":` + string(m["media"]) + `,"later":{"a":[1,2]}`)
	for k, v := range m {
		if k != "history" && k != "media" {
			other = append(other, `,"`+k+`":`+string(v)...)
		}
	}
	other = append(other, '}')
	if got, err = decodeBrief(other); err != nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("brief of a record in another order: %v\n%+v", err, got)
	}
	// Light keys out of order.
	swapped := append([]byte(`{"title":`+string(m["title"])+`,"id":`+string(m["id"])), raw[len(`{"id":`)+len(m["id"]):]...)
	if got, err = decodeBrief(swapped); err != nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("brief of a record with keys swapped: %v\n%+v", err, got)
	}
	for _, bad := range []string{``, `[]`, `{"id": 3}`, `{"id":"x"`} {
		if _, err := decodeBrief([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
