package presession

import (
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// CountryName returns the name of the country with the ISO code in the
// language lang (en, fr, es, …), falling back to English, then to the code.
func CountryName(code, lang string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	if n := display.Regions(tag).Name(r); n != "" {
		return n
	}
	if n := display.Regions(language.English).Name(r); n != "" {
		return n
	}
	return code
}

// LanguageName returns the language's own name ("English", "Français",
// "Español"), for caption track labels.
func LanguageName(lang string) string {
	tag, err := language.Parse(lang)
	if err != nil {
		return lang
	}
	n := display.Self.Name(tag)
	if n == "" {
		return lang
	}
	// Title-case the first letter: CLDR writes "français", "español".
	r := []rune(n)
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	return string(r)
}
