package filestore

import (
	"fmt"
	"math/rand/v2"
)

// Words of made-up run names ("bold-fox-123"), as MLflow names runs that
// get none.
var (
	nameAdjectives = []string{"able", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair",
		"gentle", "glad", "keen", "kind", "lively", "lucky", "merry", "neat", "proud", "quick", "quiet",
		"rare", "sharp", "shy", "smart", "steady", "sunny", "swift", "tidy", "vast", "wise"}
	nameNouns = []string{"ant", "bass", "bear", "bee", "cat", "colt", "crab", "crane", "deer", "dove",
		"eel", "elk", "finch", "fox", "frog", "goat", "hare", "hawk", "jay", "lark", "lynx", "mole",
		"moth", "newt", "owl", "ram", "seal", "slug", "snail", "wolf"}
)

func randomRunName() string {
	return fmt.Sprintf("%s-%s-%d", nameAdjectives[rand.IntN(len(nameAdjectives))], nameNouns[rand.IntN(len(nameNouns))], rand.IntN(1000))
}
