package layout_test

import (
	"fmt"
	"testing"

	"github.com/uprinfo/presession/layout"
)

// TestKeys is the golden list of every key the service stores.
func TestKeys(t *testing.T) {
	const id = "01JABCDEFGHJKMNPQRSTVWXYZ0"
	for _, tc := range []struct{ got, want string }{
		{layout.Source(id), "uploads/01JABCDEFGHJKMNPQRSTVWXYZ0"},
		{layout.SourceInfo(id), "uploads/01JABCDEFGHJKMNPQRSTVWXYZ0.info"},
		{layout.SourcePart(id), "uploads/01JABCDEFGHJKMNPQRSTVWXYZ0.part"},
		{layout.Statement(id), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/"},
		{layout.Record(id), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/statement.json"},
		{layout.Manifest(id), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/media.json"},
		{layout.Media(id, layout.MasterName), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/master.m3u8"},
		{layout.Media(id, layout.RungPlaylist("720p")), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/hls/720p/index.m3u8"},
		{layout.Sibling(layout.Media(id, "hls/720p/index.m3u8"), layout.InitName), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/hls/720p/init.mp4"},
		{layout.Sibling(layout.Media(id, "hls/720p/index.m3u8"), fmt.Sprintf(layout.SegmentPattern, 3)), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/hls/720p/seg_00003.m4s"},
		{layout.Media(id, layout.DownloadName), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/download.mp4"},
		{layout.Media(id, layout.PosterName), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/poster.jpg"},
		{layout.Media(id, layout.ThumbName), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/thumb.jpg"},
		{layout.Media(id, layout.StoryboardName), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/storyboard.jpg"},
		{layout.Media(id, layout.StoryboardVTTName), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/storyboard.vtt"},
		{layout.Caption(id, "fr"), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/subs/fr.vtt"},
		{layout.Media(id, layout.SubtitlePlaylistName("fr")), "statements/01JABCDEFGHJKMNPQRSTVWXYZ0/subs/fr.m3u8"},
		{layout.SubtitlePlaylistFile("fr"), "fr.m3u8"},
		{layout.CaptionFile("fr"), "fr.vtt"},
		{layout.Order("upr36", "AD"), "orders/upr36/AD.json"},
		{layout.Build("upr36", "ad"), "playlists/upr36/AD/build.json"},
		{layout.Invitation("a1b2"), "invitations/a1b2.json"},
		{layout.Webhook("wh_0123abcd"), "webhooks/wh_0123abcd.json"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		key string
		id  string
		ok  bool
	}{
		{"statements/abc/statement.json", "abc", true},
		{"statements/abc/media.json", "", false},
		{"statements/a/b/statement.json", "", false},
		{"orders/abc/statement.json", "", false},
		{"statements/statement.json", "", false},
	} {
		if id, ok := layout.ParseRecord(tc.key); ok != tc.ok || (ok && id != tc.id) {
			t.Errorf("ParseRecord(%q) = %q, %v", tc.key, id, ok)
		}
	}
	for _, tc := range []struct {
		key string
		id  string
		ok  bool
	}{
		{"uploads/abc.info", "abc", true},
		{"uploads/abc", "", false},
		{"uploads/abc.part", "", false},
		{"uploads/x/abc.info", "", false},
		{"statements/abc.info", "", false},
	} {
		if id, ok := layout.ParseSourceInfo(tc.key); ok != tc.ok || (ok && id != tc.id) {
			t.Errorf("ParseSourceInfo(%q) = %q, %v", tc.key, id, ok)
		}
	}
	for _, tc := range []struct {
		key, session, country string
		ok                    bool
	}{
		{"orders/upr36/AD.json", "upr36", "AD", true},
		{"orders/upr36.json", "", "", false},
		{"orders/upr36/AD.txt", "", "", false},
		{"playlists/upr36/AD.json", "", "", false},
	} {
		s, c, ok := layout.ParseOrder(tc.key)
		if ok != tc.ok || (ok && (s != tc.session || c != tc.country)) {
			t.Errorf("ParseOrder(%q) = %q, %q, %v", tc.key, s, c, ok)
		}
	}
	for _, tc := range []struct {
		key string
		id  string
		ok  bool
	}{
		{"invitations/a1b2.json", "a1b2", true},
		{"invitations/.json", "", false},
		{"invitations/a/b.json", "", false},
		{"invitations/a1b2.txt", "", false},
		{"orders/a1b2.json", "", false},
	} {
		if id, ok := layout.ParseInvitation(tc.key); ok != tc.ok || (ok && id != tc.id) {
			t.Errorf("ParseInvitation(%q) = %q, %v", tc.key, id, ok)
		}
	}
	// What the layout builds, it parses back.
	if id, ok := layout.ParseInvitation(layout.Invitation("x1")); !ok || id != "x1" {
		t.Errorf("ParseInvitation(Invitation) = %q, %v", id, ok)
	}
	if id, ok := layout.ParseRecord(layout.Record("x1")); !ok || id != "x1" {
		t.Errorf("ParseRecord(Record) = %q, %v", id, ok)
	}
	if id, ok := layout.ParseSourceInfo(layout.SourceInfo("x1")); !ok || id != "x1" {
		t.Errorf("ParseSourceInfo(SourceInfo) = %q, %v", id, ok)
	}
	if s, c, ok := layout.ParseOrder(layout.Order("upr36", "MH")); !ok || s != "upr36" || c != "MH" {
		t.Errorf("ParseOrder(Order) = %q, %q, %v", s, c, ok)
	}
	if id, ok := layout.ParseWebhook(layout.Webhook("wh_1")); !ok || id != "wh_1" {
		t.Errorf("ParseWebhook(Webhook) = %q, %v", id, ok)
	}
	for _, key := range []string{"webhooks/.json", "webhooks/a/b.json", "webhooks/a.txt", "orders/a.json"} {
		if id, ok := layout.ParseWebhook(key); ok {
			t.Errorf("ParseWebhook(%q) = %q, true", key, id)
		}
	}
}

// TestMediaURL: only a statement's own keys have a media URL, and Media
// turns the URL's part after /media/{id}/ back into the key.
func TestMediaURL(t *testing.T) {
	for _, tc := range []struct{ id, key, want string }{
		{"abc", "statements/abc/master.m3u8", "/media/abc/master.m3u8"},
		{"s1", "statements/s1/hls/720p/seg_00000.m4s", "/media/s1/hls/720p/seg_00000.m4s"},
		{"abc", "statements/abc/hls/720p/seg 1.m4s", "/media/abc/hls/720p/seg%201.m4s"},
		{"a b", "statements/a b/poster.jpg", "/media/a%20b/poster.jpg"},
		{"abc", "statements/other/master.m3u8", ""},
		{"s1", "s1/poster.jpg", ""},
		{"s1", "elsewhere/x y.vtt", ""},
		{"ok1", "uploads/ok1", ""},
		{"abc", "", ""},
	} {
		got := layout.MediaURL(tc.id, tc.key)
		if got != tc.want {
			t.Errorf("MediaURL(%q, %q) = %q, want %q", tc.id, tc.key, got, tc.want)
		}
	}
	for _, key := range []string{"statements/abc/master.m3u8", "statements/abc/hls/720p/init.mp4", "statements/abc/subs/fr.vtt"} {
		rel := layout.MediaURL("abc", key)[len("/media/abc/"):]
		if back := layout.Media("abc", rel); back != key {
			t.Errorf("Media(abc, %q) = %q, want %q", rel, back, key)
		}
	}
}

func TestClassify(t *testing.T) {
	const id = "abc"
	for _, tc := range []struct {
		key  string
		want layout.Kind
	}{
		{layout.Media(id, layout.MasterName), layout.KindPlaylist},
		{layout.Media(id, "hls/720p/index.m3u8"), layout.KindPlaylist},
		{layout.Media(id, layout.SubtitlePlaylistName("fr")), layout.KindPlaylist},
		{layout.Media(id, "hls/720p/seg_00000.m4s"), layout.KindSegment},
		{layout.Media(id, "hls/720p/init.mp4"), layout.KindInit},
		{layout.Media(id, layout.DownloadName), layout.KindDownload},
		{"statements/abc/statement.mp4", layout.KindDownload},
		{layout.Media(id, layout.PosterName), layout.KindImage},
		{layout.Media(id, layout.ThumbName), layout.KindImage},
		{layout.Media(id, layout.StoryboardName), layout.KindImage},
		{layout.Media(id, layout.StoryboardVTTName), layout.KindStoryboardVTT},
		{layout.Caption(id, "en"), layout.KindCaption},
		{"statements/abc/captions/en.vtt", layout.KindCaption},
		{layout.Manifest(id), layout.KindOther},
		{layout.Source(id), layout.KindOther},
	} {
		if got := layout.Classify(tc.key); got != tc.want {
			t.Errorf("Classify(%q) = %s, want %s", tc.key, got, tc.want)
		}
	}
}
