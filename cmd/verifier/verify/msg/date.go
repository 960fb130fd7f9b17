package msg

import (
	"strconv"
	"time"
)

// Date writes the day of t (in t's location) in lang: "1 de marzo de 2025",
// "1 March 2025", "l'1 de març de 2025" (Catalan: with the article, elided
// or not), "1 de marzo de 2025", "2025eko martxoaren 1ean" (Basque: the
// year with its -(e)ko ending, the day in the inessive, "on").
func Date(lang Lang, t time.Time) string {
	day, year := strconv.Itoa(t.Day()), strconv.Itoa(t.Year())
	switch lang {
	case Basque:
		year += basqueSuffix(t.Year(), "ko", "eko")
		day += basqueInessive(t.Day())
	case Catalan:
		// The article, elided before u (1) and onze (11).
		if t.Day() == 1 || t.Day() == 11 {
			day = "l'" + day
		} else {
			day = "el " + day
		}
	}
	return T(lang, "time.date", "day", day, "month", Get(lang, "time.month."+strconv.Itoa(int(t.Month())), nil), "year", year)
}

// basqueEndsInConsonant says whether the Basque reading of n (0 < n < 10000)
// ends in a consonant: bat (1), bost (5), hamar (10), hamabost (15), ehun
// (hundreds), and the tens built on them; mila (thousands), bi, hiru,
// hogei... end in a vowel.
func basqueEndsInConsonant(n int) bool {
	r := n % 100
	if r == 0 {
		return (n/100)%10 != 0 // ...ehun; a round thousand ends in mila
	}
	if r >= 20 {
		if r%20 == 0 {
			return false // hogei, berrogei, hirurogei, laurogei
		}
		r %= 20 // hogeita bat, ..., hogeita hamar
	}
	switch r {
	case 1, 5, 10, 15:
		return true
	}
	return false
}

// basqueSuffix is afterVowel or afterConsonant, as n reads.
func basqueSuffix(n int, afterVowel, afterConsonant string) string {
	if basqueEndsInConsonant(n) {
		return afterConsonant
	}
	return afterVowel
}

// basqueInessive is the inessive ending of a day number: 1ean, 2an, 11n.
func basqueInessive(day int) string {
	if day%20 == 11 { // hamaika, hogeita hamaika end in -a
		return "n"
	}
	return basqueSuffix(day, "an", "ean")
}
