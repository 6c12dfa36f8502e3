package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var verb = regexp.MustCompile(`%(?:\[(\d+)\])?[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])`)

// verbs returns the fmt verbs of a message by argument index, so that a
// translation may reorder its arguments with %[n]s.
func verbs(s string) map[int]string {
	out := map[int]string{}
	next := 1
	for _, m := range verb.FindAllStringSubmatch(s, -1) {
		if m[2] == "%" {
			continue
		}
		if m[1] != "" {
			next, _ = strconv.Atoi(m[1])
		}
		out[next] = m[2]
		next++
	}
	return out
}

// TestCatalogVerbs fails when a translation takes other arguments than the
// English message: a missing %s drops a value, an extra one prints
// %!s(MISSING).
func TestCatalogVerbs(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for key, en := range b.msgs["en"] {
		want := verbs(en)
		for _, lang := range Languages[1:] {
			s, ok := b.msgs[lang][key]
			if !ok {
				continue // TestCatalogComplete reports it
			}
			if got := verbs(s); !mapsEqual(got, want) {
				t.Errorf("%s %s: arguments %v, English has %v\n  en: %s\n  %s: %s", lang, key, got, want, en, lang, s)
			}
		}
	}
}

func mapsEqual(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// keyLiteral is a Go string literal that looks like a catalogue key: an
// area prefix, a dot, and a name that does not end like a file.
var keyLiteral = regexp.MustCompile(`"((?:err|auth|invite|staff|upload|watch|status|home|site|lang|error|reject|reason|mail|warning)\.[A-Za-z0-9_.]*[A-Za-z0-9_])"`)

// templateKey is a key a template translates with .T or $.T.
var templateKey = regexp.MustCompile(`\.T "([^"]+)"`)

var fileExt = regexp.MustCompile(`\.(css|js|mjs|html|json|go|m3u8|vtt|mp4)$`)

// TestKeysExist fails when code or a template names a message that the
// catalogue lacks: T would show the bare key, and an error's Localize key
// would fall back to English.
func TestKeysExist(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || strings.HasPrefix(n, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		var re *regexp.Regexp
		switch {
		case strings.HasSuffix(path, "_test.go"):
			return nil
		case strings.HasSuffix(path, ".go"):
			re = keyLiteral
		case strings.HasSuffix(path, ".html"):
			re = templateKey
		default:
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			key := m[1]
			if fileExt.MatchString(key) || strings.Contains(key, "%") {
				continue
			}
			seen++
			if !b.Has(key) {
				t.Errorf("%s names the message %q, which the catalogue lacks", rel, key)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("found only %d message keys in the sources; is the scan looking in the right place?", seen)
	}
}
