// Command quickstart will run a full register lifecycle on emulated cards with
// an on-disk fiscal memory. The register engine is not on main yet; until it
// is, this program says so and exits 0 (see README, Status).
package main

import "fmt"

func main() {
	fmt.Println("quickstart: the register engine is not on main yet; see README.md, Status")
}
