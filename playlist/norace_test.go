//go:build !race

package playlist

const raceEnabled = false
